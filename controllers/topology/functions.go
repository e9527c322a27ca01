package topology

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// LibrarySource is one entry of spec.functions with what its ConfigMap
// held: the code, or why it could not be read.
type LibrarySource struct {
	// Source is "configmap/key".
	Source string
	Code   string
	// Err is why there is no code (the ConfigMap or the key is missing).
	Err string
}

// Library is one library to keep loaded: its name (from the code's
// "#!lua name=" line), where it comes from, its code and the code's hash.
type Library struct {
	Name   string
	Source string
	Code   string
	SHA256 string
}

// CodeHash is the hex SHA-256 of a library's code: the version compared
// between the ConfigMap and what FUNCTION LIST WITHCODE reports.
func CodeHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// metadataError is an error of a library's "#!" line, in Redis's words.
type metadataError string

func (e metadataError) Error() string { return string(e) }

// FunctionLibraryName reads the library name of code as Redis's FUNCTION
// LOAD does (functionExtractLibMetaData): a first line "#!<engine>
// name=<name>", engine lua, no other argument, a name of letters, digits
// and underscores. The errors are Redis's texts.
func FunctionLibraryName(code string) (string, error) {
	if !strings.HasPrefix(code, "#!") {
		return "", metadataError("Missing library metadata")
	}
	end := strings.IndexByte(code, '\n')
	if end < 0 {
		return "", metadataError("Invalid library metadata")
	}
	parts := strings.Fields(code[:end])
	if len(parts) == 0 {
		return "", metadataError("Invalid library metadata")
	}
	engine := parts[0][2:]
	name, seen := "", false
	for _, p := range parts[1:] {
		if len(p) < 5 || !strings.EqualFold(p[:5], "name=") {
			return "", metadataError(fmt.Sprintf("Invalid metadata value given: %s", p))
		}
		if seen {
			return "", metadataError("Invalid metadata value, name argument was given multiple times")
		}
		name, seen = p[5:], true
	}
	if !seen {
		return "", metadataError("Library name was not given")
	}
	if !strings.EqualFold(engine, "lua") {
		return "", metadataError(fmt.Sprintf("Engine '%s' not found", engine))
	}
	if name == "" || strings.IndexFunc(name, func(r rune) bool {
		return !(r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9'))
	}) >= 0 {
		return "", metadataError("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long")
	}
	return name, nil
}

// DesiredLibraries is the libraries to load, in the order of spec.functions,
// and, by source, why the others cannot be: no code, no valid name, or a
// name an earlier source already uses.
func DesiredLibraries(sources []LibrarySource) ([]Library, map[string]string) {
	var libs []Library
	problems := map[string]string{}
	bySame := map[string]string{}
	for _, s := range sources {
		if s.Err != "" {
			problems[s.Source] = s.Err
			continue
		}
		name, err := FunctionLibraryName(s.Code)
		if err != nil {
			problems[s.Source] = err.Error()
			continue
		}
		if first, dup := bySame[name]; dup {
			problems[s.Source] = fmt.Sprintf("library %s is already loaded from %s", name, first)
			continue
		}
		bySame[name] = s.Source
		libs = append(libs, Library{Name: name, Source: s.Source, Code: s.Code, SHA256: CodeHash(s.Code)})
	}
	return libs, problems
}

// NodeFunctions is what one node reported in FUNCTION LIST WITHCODE: the
// hash of every library's code by name. Libraries is nil when the node did
// not answer.
type NodeFunctions struct {
	Pod       string
	Master    bool
	Libraries map[string]string
}

// FunctionLoad is one FUNCTION LOAD REPLACE to send.
type FunctionLoad struct {
	Pod     string
	Library Library
}

// PlanFunctionLoads is the loads that bring every master that answered to
// the desired code: the libraries it lacks or has another version of.
// Replicas are not loaded: they refuse writes, and receive their master's
// functions by replication (full sync carries them, FUNCTION LOAD is
// propagated).
func PlanFunctionLoads(want []Library, nodes []NodeFunctions) []FunctionLoad {
	var loads []FunctionLoad
	for _, n := range nodes {
		if !n.Master || n.Libraries == nil {
			continue
		}
		for _, lib := range want {
			if n.Libraries[lib.Name] != lib.SHA256 {
				loads = append(loads, FunctionLoad{Pod: n.Pod, Library: lib})
			}
		}
	}
	return loads
}

// maxMissingListed bounds status.functions[].missing.
const maxMissingListed = 10

// FunctionStatuses is status.functions: for every source of spec.functions,
// in order, the library's name and hash, how many of the nodes that
// answered have that code, which do not, and the problem (a source's, or a
// load's error by library name).
func FunctionStatuses(sources []LibrarySource, want []Library, problems, loadErrors map[string]string, nodes []NodeFunctions) []v1alpha1.FunctionLibraryStatus {
	if len(sources) == 0 {
		return nil
	}
	bySource := map[string]Library{}
	for _, l := range want {
		bySource[l.Source] = l
	}
	out := make([]v1alpha1.FunctionLibraryStatus, 0, len(sources))
	for _, s := range sources {
		st := v1alpha1.FunctionLibraryStatus{Source: s.Source, Error: problems[s.Source]}
		lib, ok := bySource[s.Source]
		if !ok {
			if name, err := FunctionLibraryName(s.Code); err == nil {
				st.Name = name
			}
			out = append(out, st)
			continue
		}
		st.Name, st.SHA256, st.Error = lib.Name, lib.SHA256, loadErrors[lib.Name]
		var missing []string
		for _, n := range nodes {
			if n.Libraries == nil {
				continue
			}
			st.Nodes++
			if n.Libraries[lib.Name] == lib.SHA256 {
				st.LoadedNodes++
			} else {
				missing = append(missing, n.Pod)
			}
		}
		sort.Strings(missing)
		if len(missing) > maxMissingListed {
			missing = missing[:maxMissingListed]
		}
		st.Missing = missing
		out = append(out, st)
	}
	return out
}
