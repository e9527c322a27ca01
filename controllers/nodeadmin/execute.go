package nodeadmin

import (
	"context"
	"fmt"

	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Execute carries out one planned action on the client of its node.
func Execute(ctx context.Context, c clusteradmin.Client, a topology.Action) error {
	switch a.Type {
	case topology.ActionMeet:
		return c.Meet(ctx, a.IP, a.Port, a.BusPort)
	case topology.ActionAddSlots:
		return c.AddSlots(ctx, a.Slots)
	case topology.ActionReplicate:
		return c.Replicate(ctx, a.MasterID)
	case topology.ActionForget:
		return c.Forget(ctx, a.NodeID)
	}
	return fmt.Errorf("unknown action %q", a.Type)
}
