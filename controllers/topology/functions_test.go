package topology

import (
	"reflect"
	"testing"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

func TestFunctionLibraryName(t *testing.T) {
	cases := []struct{ code, name, err string }{
		{"#!lua name=mylib\nredis.register_function('f', function() return 1 end)", "mylib", ""},
		{"#!LUA   NAME=My_Lib_2\n", "My_Lib_2", ""},
		{"#!lua name=a\r\n", "a", ""},
		{"return 1", "", "Missing library metadata"},
		{"#!lua name=x", "", "Invalid library metadata"},
		{"#!lua\n", "", "Library name was not given"},
		{"#!lua name=x foo=bar\n", "", "Invalid metadata value given: foo=bar"},
		{"#!lua name=x name=y\n", "", "Invalid metadata value, name argument was given multiple times"},
		{"#!python name=x\n", "", "Engine 'python' not found"},
		{"#!lua name=\n", "", "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"},
		{"#!lua name=a-b\n", "", "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"},
	}
	for _, c := range cases {
		name, err := FunctionLibraryName(c.code)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if name != c.name || got != c.err {
			t.Errorf("%q: got (%q, %q), want (%q, %q)", c.code, name, got, c.name, c.err)
		}
	}
}

const (
	libA  = "#!lua name=a\nredis.register_function('fa', function() return 1 end)"
	libA2 = "#!lua name=a\nredis.register_function('fa', function() return 2 end)"
	libB  = "#!lua name=b\nredis.register_function('fb', function() return 1 end)"
)

func TestDesiredLibraries(t *testing.T) {
	libs, problems := DesiredLibraries([]LibrarySource{
		{Source: "cm/a", Code: libA},
		{Source: "cm/missing", Err: "ConfigMap cm has no key missing"},
		{Source: "cm/bad", Code: "return 1"},
		{Source: "other/a", Code: libA2},
		{Source: "cm/b", Code: libB},
	})
	if len(libs) != 2 || libs[0].Name != "a" || libs[0].Source != "cm/a" || libs[0].SHA256 != CodeHash(libA) || libs[1].Name != "b" {
		t.Errorf("libraries %+v", libs)
	}
	want := map[string]string{
		"cm/missing": "ConfigMap cm has no key missing",
		"cm/bad":     "Missing library metadata",
		"other/a":    "library a is already loaded from cm/a",
	}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems %v, want %v", problems, want)
	}
}

func TestPlanFunctionLoads(t *testing.T) {
	want, _ := DesiredLibraries([]LibrarySource{{Source: "cm/a", Code: libA2}, {Source: "cm/b", Code: libB}})
	nodes := []NodeFunctions{
		{Pod: "m0", Master: true, Libraries: map[string]string{"a": CodeHash(libA2), "b": CodeHash(libB)}}, // up to date
		{Pod: "m1", Master: true, Libraries: map[string]string{"a": CodeHash(libA), "other": "x"}},         // old a, no b
		{Pod: "m2", Master: true},                                  // did not answer
		{Pod: "r0", Master: false, Libraries: map[string]string{}}, // a replica: never loaded
		{Pod: "m3", Master: true, Libraries: map[string]string{}},  // a new master
	}
	got := PlanFunctionLoads(want, nodes)
	type pl struct{ pod, lib string }
	var gotPL []pl
	for _, l := range got {
		gotPL = append(gotPL, pl{l.Pod, l.Library.Name})
	}
	wantPL := []pl{{"m1", "a"}, {"m1", "b"}, {"m3", "a"}, {"m3", "b"}}
	if !reflect.DeepEqual(gotPL, wantPL) {
		t.Errorf("loads %v, want %v", gotPL, wantPL)
	}
	if got[0].Library.Code != libA2 {
		t.Errorf("load carries the ConfigMap's code")
	}
}

func TestFunctionStatuses(t *testing.T) {
	sources := []LibrarySource{{Source: "cm/a", Code: libA}, {Source: "cm/bad", Code: "#!lua name=bad\n"}, {Source: "cm/gone", Err: "ConfigMap cm has no key gone"}}
	want, problems := DesiredLibraries(sources)
	nodes := []NodeFunctions{
		{Pod: "m0", Master: true, Libraries: map[string]string{"a": CodeHash(libA)}},
		{Pod: "r0", Libraries: map[string]string{}},
		{Pod: "m1", Master: true}, // unreachable: not counted
	}
	got := FunctionStatuses(sources, want, problems, map[string]string{"bad": "FUNCTION LOAD: ERR Error compiling function"}, nodes)
	exp := []v1alpha1.FunctionLibraryStatus{
		{Name: "a", Source: "cm/a", SHA256: CodeHash(libA), LoadedNodes: 1, Nodes: 2, Missing: []string{"r0"}},
		{Name: "bad", Source: "cm/bad", SHA256: CodeHash("#!lua name=bad\n"), Nodes: 2, Missing: []string{"m0", "r0"}, Error: "FUNCTION LOAD: ERR Error compiling function"},
		{Source: "cm/gone", Error: "ConfigMap cm has no key gone"},
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("statuses\n got %+v\nwant %+v", got, exp)
	}
	if FunctionStatuses(nil, nil, nil, nil, nodes) != nil {
		t.Error("no spec.functions: no status")
	}
}
