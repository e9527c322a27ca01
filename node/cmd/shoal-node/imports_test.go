package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNodeDoesNotImportTheOperator keeps the data node independent of the
// operator: no package under node/ may depend on controllers/ (shared admin
// code lives in node/clusteradmin, where both may use it).
func TestNodeDoesNotImportTheOperator(t *testing.T) {
	const module = "github.com/shoal-dev/shoal"
	out, err := exec.Command("go", "list", "-deps", module+"/node/...").Output()
	if err != nil {
		t.Fatalf("go list -deps %s/node/...: %v", module, err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == module+"/controllers" || strings.HasPrefix(pkg, module+"/controllers/") {
			t.Errorf("a package under node/ depends on %s", pkg)
		}
	}
}
