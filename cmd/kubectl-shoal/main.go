// Command kubectl-shoal is the kubectl plugin of Shoal: `kubectl shoal
// status|switchover|pause|resume|check|cli|completion`. Copy the binary to
// a directory of PATH and kubectl finds it (kubectl's plugin convention:
// an executable named kubectl-<name>).
package main

import (
	"os"

	"github.com/shoal-dev/shoal/cmd/kubectl-shoal/plugin"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	if err := plugin.NewRootCommand(streams).Execute(); err != nil {
		os.Exit(1)
	}
}
