package clusternode

import (
	"slices"
	"testing"

	"github.com/shoal-dev/shoal/node/command"
)

// TestShardPubsubFromKeySpecs: the commands routed as sharded pub/sub
// (their key specs all not_key) are exactly SPUBLISH, SSUBSCRIBE and
// SUNSUBSCRIBE, the ones Redis's getNodeByQuery names.
func TestShardPubsubFromKeySpecs(t *testing.T) {
	var got []string
	tab := command.Default()
	for id := 0; id < tab.NumIDs(); id++ {
		if sp := tab.ByID(id); isShardPubsub(sp) {
			got = append(got, sp.FullName())
		}
	}
	slices.Sort(got)
	if want := []string{"spublish", "ssubscribe", "sunsubscribe"}; !slices.Equal(got, want) {
		t.Fatalf("sharded pub/sub commands %q, want %q", got, want)
	}
}
