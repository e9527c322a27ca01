package clusteradmin

import (
	"reflect"
	"testing"
)

func TestParseFunctionList(t *testing.T) {
	resp2 := []any{
		[]any{"library_name", "a", "engine", "LUA", "functions", []any{}, "library_code", "#!lua name=a\n"},
		[]any{"library_name", "b", "engine", "LUA", "functions", []any{}, "library_code", "#!lua name=b\n"},
	}
	resp3 := []any{map[any]any{"library_name": "a", "engine": "LUA", "library_code": "#!lua name=a\n"}}
	got, err := parseFunctionList(resp2)
	if want := map[string]string{"a": "#!lua name=a\n", "b": "#!lua name=b\n"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("RESP2: %v, %v", got, err)
	}
	got, err = parseFunctionList(resp3)
	if want := map[string]string{"a": "#!lua name=a\n"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("RESP3: %v, %v", got, err)
	}
	for _, bad := range []any{"x", []any{"x"}, []any{[]any{"library_name", "a"}}} {
		if _, err := parseFunctionList(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
