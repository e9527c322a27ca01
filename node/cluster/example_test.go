package cluster_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
	"github.com/shoal-dev/shoal/node/cluster"
)

// Example shows the loop the I/O layer runs around a Machine: every call
// returns a Ready to carry out, saving nodes.conf first.
func Example() {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := cluster.DefaultConfig(7000, rand.New(rand.NewPCG(1, 2)))
	cfg.AnnounceIP = "10.0.0.1"
	m, rd, err := cluster.New(now, cfg)
	if err != nil {
		panic(err)
	}
	carryOut := func(rd cluster.Ready) {
		if rd.SaveConfig {
			// cluster.WriteNodesConf(dir+"/nodes.conf", rd.NodesConf), fsynced.
			fmt.Println("save nodes.conf")
		}
		for _, d := range rd.Dials {
			fmt.Printf("dial link %d to %s:%d\n", d.Link, d.IP, d.Port)
		}
		for _, e := range rd.Messages {
			b, _ := bus.Encode(nil, e.Msg)
			fmt.Printf("send %s (%d bytes) on link %d\n", e.Msg.Type, len(b), e.Link)
		}
		if rd.Replication != nil && rd.Replication.MasterID == "" {
			fmt.Println("replication: be a master")
		}
	}
	carryOut(rd)
	rd, err = m.AddSlotsRange(now, []cluster.SlotRange{{Start: 0, End: 16383}})
	if err != nil {
		panic(err)
	}
	carryOut(rd)
	rd, _ = m.Meet(now, "10.0.0.2", "7000", "")
	carryOut(rd)
	carryOut(m.Tick(now.Add(cluster.CronInterval)))
	// Output:
	// save nodes.conf
	// replication: be a master
	// save nodes.conf
	// dial link 1 to 10.0.0.2:17000
	// send meet (2226 bytes) on link 1
}
