package replication

import "testing"

// TestSaveInfoRoundTrip: the aux fields a snapshot is written with give
// back the same SaveInfo.
func TestSaveInfoRoundTrip(t *testing.T) {
	in := SaveInfo{ID: NewReplID(), Offset: 123456789, StreamDB: 3}
	var r SaveInfoReader
	for _, a := range in.Aux() {
		if err := r.Aux(a[0], a[1]); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok := r.Info(); !ok || got != in {
		t.Fatalf("read back %+v, %v; want %+v", got, ok, in)
	}
}

// TestSaveInfoAbsentInOldSnapshots: a snapshot without the fields (older
// builds) has no SaveInfo, and other aux fields are ignored.
func TestSaveInfoAbsentInOldSnapshots(t *testing.T) {
	var r SaveInfoReader
	for _, a := range [][2]string{{"shoal-ver", "7.0.15"}, {"ctime", "1700000000"}} {
		if err := r.Aux(a[0], a[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := r.Info(); ok {
		t.Fatal("a SaveInfo from a snapshot without replication fields")
	}
	if err := r.Aux(AuxReplID, NewReplID()); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Info(); ok {
		t.Fatal("a SaveInfo without an offset")
	}
}

// TestSaveInfoRejectsMalformed: a malformed replication field is an error.
func TestSaveInfoRejectsMalformed(t *testing.T) {
	for _, a := range [][2]string{{AuxReplID, "short"}, {AuxReplOffset, "-1"}, {AuxReplOffset, "x"}, {AuxReplStreamDB, "-2"}} {
		var r SaveInfoReader
		if err := r.Aux(a[0], a[1]); err == nil {
			t.Errorf("%s=%q accepted", a[0], a[1])
		}
	}
}
