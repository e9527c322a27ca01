package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// apiResource is one row of `kubectl api-resources`: what kubectl matches a
// resource argument against.
type apiResource struct {
	Name       string // plural
	Singular   string // empty: the lower-cased kind
	ShortNames []string
	Kind       string
	Group      string
	Categories []string
}

func (r apiResource) singular() string {
	if r.Singular != "" {
		return r.Singular
	}
	return strings.ToLower(r.Kind)
}

// String names the resource as kubectl does in its messages.
func (r apiResource) String() string {
	if r.Group == "" {
		return r.Name
	}
	return r.Name + "." + r.Group
}

// crdResources reads the CustomResourceDefinitions in dir (one per file, as
// controller-gen writes config/crd/bases).
func crdResources(dir string) ([]apiResource, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []apiResource
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &crd); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		n := crd.Spec.Names
		out = append(out, apiResource{Name: n.Plural, Singular: n.Singular, ShortNames: n.ShortNames,
			Kind: n.Kind, Group: crd.Spec.Group, Categories: n.Categories})
	}
	return out, nil
}

// resolver resolves a resource argument the way kubectl does: the name of a
// resource (plural, singular or kind, optionally qualified by `.group`)
// first, then the short names, built-in resources before custom ones (the
// order of discovery), and for `get` the categories (`all`, `shoal`).
type resolver struct {
	builtin, custom []apiResource
}

// resolve returns the resources kubectl would act on for arg.
func (r resolver) resolve(arg string, categories bool) ([]apiResource, error) {
	name, group, qualified := strings.Cut(strings.ToLower(arg), ".")
	all := append(append([]apiResource{}, r.builtin...), r.custom...)
	for _, res := range all {
		if qualified && res.Group != group {
			continue
		}
		if name == res.Name || name == res.singular() || name == strings.ToLower(res.Kind) {
			return []apiResource{res}, nil
		}
	}
	if !qualified {
		for _, res := range all {
			for _, s := range res.ShortNames {
				if s == name {
					return []apiResource{res}, nil
				}
			}
		}
	}
	if categories && !qualified {
		var in []apiResource
		for _, res := range all {
			for _, c := range res.Categories {
				if c == name {
					in = append(in, res)
				}
			}
		}
		if len(in) > 0 {
			return in, nil
		}
	}
	return nil, fmt.Errorf("the server doesn't have a resource type %q", arg)
}

// shadowedShortNames lists the short names of custom resources that a
// built-in resource's name or short name hides from kubectl.
func shadowedShortNames(builtin, custom []apiResource) []string {
	taken := map[string]string{}
	for _, b := range builtin {
		taken[b.Name] = b.String()
		taken[b.singular()] = b.String()
		for _, s := range b.ShortNames {
			taken[s] = b.String()
		}
	}
	var out []string
	for _, c := range custom {
		for _, s := range c.ShortNames {
			if b, ok := taken[s]; ok {
				out = append(out, fmt.Sprintf("%s: short name %q is kubectl's %s", c, s, b))
			}
		}
	}
	return out
}
