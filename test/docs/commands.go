package docs

import (
	"regexp"
	"strconv"
	"strings"
)

// kubectlCommand is one `kubectl ...` command found in a document.
type kubectlCommand struct {
	Where string // file:line
	Text  string // the command as printed
	Verb  string
	Args  []string // after the verb
}

// kubectlRE finds a kubectl invocation as the project prints it: `kubectl`,
// `$kubectl` or `"$kubectl"` followed by a verb.
var kubectlRE = regexp.MustCompile(`(?:^|[\s` + "`" + `(])"?\$?\{?kubectl\}?"?[ \t]+([a-z][a-z-]*)([^` + "`" + `|;&#)\n]*)`)

// knownVerbs are kubectl's subcommands; a match with another word after
// `kubectl` is prose ("kubectl resolves ..."), not a command.
var knownVerbs = map[string]bool{
	"get": true, "describe": true, "delete": true, "edit": true, "patch": true, "label": true,
	"annotate": true, "scale": true, "wait": true, "explain": true, "rollout": true,
	"apply": true, "create": true, "logs": true, "exec": true, "port-forward": true,
	"config": true, "api-resources": true, "cluster-info": true, "version": true, "shoal": true,
	"top": true, "cp": true, "run": true, "replace": true, "auth": true, "debug": true,
}

// extractCommands returns the kubectl commands of a document's text.
func extractCommands(file, text string) []kubectlCommand {
	var out []kubectlCommand
	for i, line := range strings.Split(text, "\n") {
		for _, m := range kubectlRE.FindAllStringSubmatch(line, -1) {
			if !knownVerbs[m[1]] {
				continue
			}
			out = append(out, kubectlCommand{
				Where: file + ":" + strconv.Itoa(i+1),
				Text:  strings.TrimSpace(strings.TrimLeft(m[0], " \t`(")),
				Verb:  m[1],
				Args:  fields(m[2]),
			})
		}
	}
	return out
}

// fields splits arguments on white space and drops shell quotes.
func fields(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		out = append(out, strings.Trim(f, `"'`))
	}
	return out
}

// flagsWithValue are kubectl flags whose value is the next argument.
var flagsWithValue = map[string]bool{
	"-n": true, "--namespace": true, "-o": true, "--output": true, "-l": true, "--selector": true,
	"-f": true, "--filename": true, "--for": true, "--timeout": true, "-p": true, "--patch": true,
	"--type": true, "--replicas": true, "-c": true, "--container": true, "--context": true,
	"--kubeconfig": true, "--field-selector": true, "-L": true, "--label-columns": true,
	"--sort-by": true, "-k": true, "--kustomize": true,
}

// resourceVerbs take a resource type (or type/name) as their first argument.
var resourceVerbs = map[string]bool{
	"get": true, "describe": true, "delete": true, "edit": true, "patch": true, "label": true,
	"annotate": true, "scale": true, "wait": true, "explain": true, "rollout": true,
}

// resourceArgs returns the resource types a command names: the first
// positional argument of a resource verb (a comma-separated list), or the
// type of every `type/name` argument. A command given -f or -k names its
// objects in files; annotate's and label's key=value and key- arguments are
// not resources; placeholders (`<name>`, `$VAR`) are skipped.
func resourceArgs(c kubectlCommand) []string {
	var pos []string
	fromFiles := false
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		if strings.HasPrefix(a, "-") {
			name, _, hasValue := strings.Cut(a, "=")
			if name == "-f" || name == "--filename" || name == "-k" || name == "--kustomize" {
				fromFiles = true
			}
			if !hasValue && flagsWithValue[name] {
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	if c.Verb == "rollout" && len(pos) > 0 {
		pos = pos[1:] // the rollout subcommand (status, restart, ...)
	}
	var types []string
	for i, p := range pos {
		if strings.HasPrefix(p, "<") || strings.HasPrefix(p, "$") {
			continue
		}
		if (c.Verb == "annotate" || c.Verb == "label") && (strings.Contains(p, "=") || strings.HasSuffix(p, "-")) {
			// key=value or key- (removal), not a type/name
			continue
		}
		if t, _, ok := strings.Cut(p, "/"); ok {
			types = append(types, t)
			continue
		}
		if i == 0 && resourceVerbs[c.Verb] && !fromFiles {
			types = append(types, strings.Split(p, ",")...)
		}
	}
	return types
}
