package bus

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecode checks that any input either fails with ErrMalformed or decodes
// to a message that encodes and decodes to itself; it never panics.
func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages() {
		b, err := Encode(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("RCmb"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if m != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v with message %v", err, m)
			}
			return
		}
		again, err := Encode(nil, m)
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		m2, err := Decode(again)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-decode: %v\n%+v\n%+v", err, m, m2)
		}
		if _, err := ReadFrame(bytes.NewReader(b), nil, 0); err != nil {
			t.Fatalf("a decodable message is not a frame: %v", err)
		}
	})
}
