package clusternode

import (
	"testing"

	"github.com/shoal-dev/shoal/node/cluster"
)

// TestEveryClusterSubcommandIsAnswered: every CLUSTER subcommand of the
// spec table is answered, by the driver or by the machine, and the
// driver answers no subcommand without a spec.
func TestEveryClusterSubcommandIsAnswered(t *testing.T) {
	specs := map[string]bool{}
	for _, sub := range clusterSubcommands() {
		specs[sub] = true
		if ownSubcommands[sub] == nil && !cluster.Answers(sub) {
			t.Errorf("CLUSTER %s has a spec but neither the driver nor the machine answers it", sub)
		}
	}
	if len(specs) == 0 {
		t.Fatal("no CLUSTER subcommand in the spec table")
	}
	for sub := range ownSubcommands {
		if !specs[sub] {
			t.Errorf("the driver answers CLUSTER %s, which has no spec", sub)
		}
	}
}
