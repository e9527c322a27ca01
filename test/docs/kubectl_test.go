package docs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the repository's top directory (this package is test/docs).
const repoRoot = "../.."

// documents are the files whose kubectl commands a user types as printed:
// the README, the chart's NOTES.txt (helm prints it after install), the
// script behind `make run-local` (its commands and the text it prints) and
// the samples' comments.
var documents = []string{
	"README.md",
	"charts/shoal/templates/NOTES.txt",
	"hack/run-local.sh",
	"config/samples/*.yaml",
}

// managedBuiltins are the built-in resources the project's commands may
// name: those the operator creates or a user inspects around a RedisCluster.
var managedBuiltins = []string{
	"pods", "statefulsets", "services", "secrets", "configmaps", "persistentvolumeclaims",
	"persistentvolumes", "events", "nodes", "namespaces", "deployments", "poddisruptionbudgets",
	"customresourcedefinitions", "serviceaccounts", "storageclasses", "endpointslices", "leases",
}

func projectResolver(t *testing.T) resolver {
	t.Helper()
	custom, err := crdResources(filepath.Join(repoRoot, "config/crd/bases"))
	if err != nil {
		t.Fatal(err)
	}
	if len(custom) == 0 {
		t.Fatal("no CRDs in config/crd/bases")
	}
	return resolver{builtin: builtinResources, custom: custom}
}

// checkCommand returns what is wrong with one command: a resource type that
// does not resolve, or resolves to a built-in resource the project does not
// mean.
func checkCommand(r resolver, c kubectlCommand) []string {
	var bad []string
	for _, typ := range resourceArgs(c) {
		got, err := r.resolve(typ, c.Verb == "get")
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		for _, res := range got {
			ours := slices.ContainsFunc(r.custom, func(c apiResource) bool { return c.String() == res.String() })
			if ours || slices.Contains(managedBuiltins, res.Name) {
				continue
			}
			bad = append(bad, "kubectl resolves "+typ+" to "+res.String())
		}
	}
	return bad
}

// TestDocumentedKubectlCommandsResolve: every kubectl command the project
// prints or documents names resource types that kubectl resolves to the
// resource meant (the `rc` short name regression: `kubectl get rc cache`
// meant a RedisCluster and got ReplicationControllers).
func TestDocumentedKubectlCommandsResolve(t *testing.T) {
	r := projectResolver(t)
	var cmds []kubectlCommand
	for _, pattern := range documents {
		files, err := filepath.Glob(filepath.Join(repoRoot, pattern))
		if err != nil || len(files) == 0 {
			t.Fatalf("document %s: not found (%v)", pattern, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(repoRoot, f)
			cmds = append(cmds, extractCommands(rel, string(b))...)
		}
	}
	checked := 0
	for _, c := range cmds {
		if len(resourceArgs(c)) > 0 {
			checked++
		}
		for _, problem := range checkCommand(r, c) {
			t.Errorf("%s: %s: %s", c.Where, c.Text, problem)
		}
	}
	// The extraction must keep finding the documented commands (README's
	// day-2 table alone has several); a regexp that stops matching must not
	// make this test pass vacuously.
	if checked < 8 {
		t.Errorf("only %d kubectl commands with resource types found in %v", checked, documents)
	}
	t.Logf("%d kubectl commands, %d naming resource types", len(cmds), checked)
}

// TestCRDShortNamesNotShadowed: no short name of our CRDs is a built-in
// resource's name or short name (kubectl would never reach ours).
func TestCRDShortNamesNotShadowed(t *testing.T) {
	r := projectResolver(t)
	for _, s := range shadowedShortNames(r.builtin, r.custom) {
		t.Error(s)
	}
}

// TestResolveAsKubectl pins the resolution rules the tests above rely on.
func TestResolveAsKubectl(t *testing.T) {
	ours := apiResource{Name: "redisclusters", Singular: "rediscluster", ShortNames: []string{"rc", "rdc"},
		Kind: "RedisCluster", Group: "redis.shoal.dev", Categories: []string{"shoal"}}
	r := resolver{builtin: builtinResources, custom: []apiResource{ours}}
	cases := []struct {
		arg, want string
		get       bool
	}{
		{"rc", "replicationcontrollers", false},
		{"rdc", "redisclusters.redis.shoal.dev", false},
		{"RedisCluster", "redisclusters.redis.shoal.dev", false},
		{"rediscluster", "redisclusters.redis.shoal.dev", false},
		{"redisclusters.redis.shoal.dev", "redisclusters.redis.shoal.dev", false},
		{"sts", "statefulsets.apps", false},
		{"po", "pods", false},
		{"shoal", "redisclusters.redis.shoal.dev", true},
	}
	for _, c := range cases {
		got, err := r.resolve(c.arg, c.get)
		if err != nil || len(got) != 1 || got[0].String() != c.want {
			t.Errorf("resolve(%q) = %v, %v; want %s", c.arg, got, err, c.want)
		}
	}
	if _, err := r.resolve("shoal", false); err == nil {
		t.Error("a category resolved outside get")
	}
	if got := shadowedShortNames(r.builtin, r.custom); len(got) != 1 || !strings.Contains(got[0], `"rc"`) {
		t.Errorf("shadowed short names = %v, want the rc one", got)
	}
}

// TestCheckCommandFindsTheRcRegression: the check fails the command the
// chart used to print, and passes its fix and the other printed forms.
func TestCheckCommandFindsTheRcRegression(t *testing.T) {
	ours := apiResource{Name: "redisclusters", Singular: "rediscluster", ShortNames: []string{"rdc"},
		Kind: "RedisCluster", Group: "redis.shoal.dev", Categories: []string{"shoal"}}
	r := resolver{builtin: builtinResources, custom: []apiResource{ours}}
	doc := "  kubectl get rc cache -w\n" +
		"`kubectl get rdc sample -o yaml` and `kubectl describe rdc sample`\n" +
		`"$kubectl" wait --for=condition=Ready rediscluster/sample --timeout=10m` + "\n" +
		"  $kubectl get rediscluster,statefulsets,pods\n" +
		"| `kubectl scale rdc sample --replicas=5` (the scale subresource) |\n" +
		"kubectl resolves a bare `rc` to ReplicationControllers\n" +
		"  kubectl apply -f - <<YAML\n" +
		"kubectl annotate rdc sample redis.shoal.dev/paused=true redis.shoal.dev/switchover-\n"
	cmds := extractCommands("doc", doc)
	if len(cmds) != 8 {
		t.Fatalf("extracted %d commands, want 8: %+v", len(cmds), cmds)
	}
	for i, c := range cmds {
		bad := checkCommand(r, c)
		if (i == 0) != (len(bad) > 0) {
			t.Errorf("%s: problems %v", c.Text, bad)
		}
	}
	if got := resourceArgs(cmds[4]); !slices.Equal(got, []string{"rediscluster", "statefulsets", "pods"}) {
		t.Errorf("resource args of %q = %v", cmds[4].Text, got)
	}
}
