package testenv

import (
	"testing"
)

// recorder is a testing.TB that records whether the helper skipped or
// failed, without ending the real test.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skip(...any)           { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestMissingToolSkipsOrFails(t *testing.T) {
	for _, required := range []string{"", "1"} {
		t.Setenv(RequireVar, required)
		r := &recorder{TB: t}
		LookTool(r, "no-such-tool-shoal", "nothing")
		if required == "1" && (!r.failed || r.skipped) {
			t.Errorf("%s=1: a missing tool must fail (failed %v, skipped %v)", RequireVar, r.failed, r.skipped)
		}
		if required == "" && (r.failed || !r.skipped) {
			t.Errorf("without %s: a missing tool skips (failed %v, skipped %v)", RequireVar, r.failed, r.skipped)
		}
	}
	t.Setenv(RequireVar, "1")
	r := &recorder{TB: t}
	if LookTool(r, "sh", "dash") == "" || r.failed || r.skipped {
		t.Error("sh is on PATH")
	}
}
