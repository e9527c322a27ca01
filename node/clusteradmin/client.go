package clusteradmin

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Client administers one node. A fake of it serves planner and reconciler
// unit tests; NodeClient is the real one.
type Client interface {
	// ClusterView reads what the node reports about the cluster and itself.
	ClusterView(ctx context.Context) (*NodeView, error)
	// Meet is CLUSTER MEET ip port bus-port.
	Meet(ctx context.Context, ip string, port, busPort int) error
	// AddSlots is CLUSTER ADDSLOTSRANGE first last [first last ...].
	AddSlots(ctx context.Context, ranges []SlotRange) error
	// SetSlot is CLUSTER SETSLOT slot IMPORTING|MIGRATING|NODE id, or
	// STABLE (nodeID ignored).
	SetSlot(ctx context.Context, slot int, state SlotState, nodeID string) error
	// Replicate is CLUSTER REPLICATE master-id.
	Replicate(ctx context.Context, masterID string) error
	// Failover is CLUSTER FAILOVER [FORCE|TAKEOVER], sent to a replica.
	Failover(ctx context.Context, mode FailoverMode) error
	// Forget is CLUSTER FORGET node-id.
	Forget(ctx context.Context, nodeID string) error
	// ConfigGet is CONFIG GET key [key ...]: the values of the keys the node
	// knows.
	ConfigGet(ctx context.Context, keys ...string) (map[string]string, error)
	// ConfigSet is CONFIG SET key value [key value ...], all or nothing.
	ConfigSet(ctx context.Context, values map[string]string) error
	// Close releases the connection.
	Close() error
	SlotMigrator
}

// Auth is who a client authenticates as: AUTH <Username> <Password>, or
// AUTH <Password> (the default user) when Username is empty; nothing when
// both are empty.
type Auth struct {
	Username string
	Password string
}

// Dialer opens a client of the node at addr, authenticated with auth.
type Dialer func(addr string, auth Auth) Client

// SlotState is the subcommand of CLUSTER SETSLOT.
type SlotState string

// The states of CLUSTER SETSLOT.
const (
	SlotImporting SlotState = "IMPORTING"
	SlotMigrating SlotState = "MIGRATING"
	SlotNode      SlotState = "NODE"
	SlotStable    SlotState = "STABLE"
)

// FailoverMode is the option of CLUSTER FAILOVER: "" for the coordinated
// manual failover, FORCE or TAKEOVER.
type FailoverMode string

// The modes of CLUSTER FAILOVER.
const (
	FailoverDefault  FailoverMode = ""
	FailoverForce    FailoverMode = "FORCE"
	FailoverTakeover FailoverMode = "TAKEOVER"
)

// Options of a NodeClient.
type Options struct {
	// Username for AUTH; empty for the default user.
	Username string
	// Password for AUTH; empty for none.
	Password string
	// Timeout bounds dialing and every command.
	Timeout time.Duration
	// TLS, when not nil, is how the node's port is spoken to (spec.tls).
	TLS *tls.Config
}

// NodeClient is a Client over one go-redis connection.
type NodeClient struct {
	rdb *redis.Client
}

var _ Client = (*NodeClient)(nil)

// New returns a client of the node at addr. It connects lazily.
func New(addr string, o Options) *NodeClient {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	return &NodeClient{rdb: redis.NewClient(&redis.Options{
		Addr:            addr,
		Username:        o.Username,
		Password:        o.Password,
		TLSConfig:       o.TLS,
		DialTimeout:     o.Timeout,
		ReadTimeout:     o.Timeout,
		WriteTimeout:    o.Timeout,
		PoolSize:        1,
		MaxRetries:      -1, // cluster commands are not all idempotent: never resend
		DisableIdentity: true,
		Protocol:        2,
	})}
}

// NewDialer returns a Dialer of NodeClients whose dials and commands time out
// after timeout.
func NewDialer(timeout time.Duration) Dialer {
	return func(addr string, auth Auth) Client {
		return New(addr, Options{Username: auth.Username, Password: auth.Password, Timeout: timeout})
	}
}

// NewTLSDialer is NewDialer over TLS with cfg.
func NewTLSDialer(timeout time.Duration, cfg *tls.Config) Dialer {
	return func(addr string, auth Auth) Client {
		return New(addr, Options{Username: auth.Username, Password: auth.Password, Timeout: timeout, TLS: cfg})
	}
}

// ClusterView pipelines CLUSTER NODES, CLUSTER INFO, DBSIZE and INFO
// replication and parses the replies.
func (c *NodeClient) ClusterView(ctx context.Context) (*NodeView, error) {
	pipe := c.rdb.Pipeline()
	nodes := pipe.ClusterNodes(ctx)
	info := pipe.ClusterInfo(ctx)
	keys := pipe.DBSize(ctx)
	repl := pipe.Info(ctx, "replication")
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("reading cluster view of %s: %w", c.rdb.Options().Addr, err)
	}
	v := &NodeView{Keys: keys.Val()}
	var err error
	if v.Nodes, err = ParseClusterNodes(nodes.Val()); err != nil {
		return nil, err
	}
	if v.Info, err = ParseClusterInfo(info.Val()); err != nil {
		return nil, err
	}
	if v.Replication, err = ParseInfoReplication(repl.Val()); err != nil {
		return nil, err
	}
	if _, ok := v.Myself(); !ok {
		return nil, fmt.Errorf("CLUSTER NODES of %s has no myself line", c.rdb.Options().Addr)
	}
	return v, nil
}

// Meet sends CLUSTER MEET ip port bus-port.
func (c *NodeClient) Meet(ctx context.Context, ip string, port, busPort int) error {
	return c.do(ctx, "CLUSTER", "MEET", ip, port, busPort)
}

// AddSlots sends CLUSTER ADDSLOTSRANGE with every range.
func (c *NodeClient) AddSlots(ctx context.Context, ranges []SlotRange) error {
	if len(ranges) == 0 {
		return nil
	}
	args := []any{"CLUSTER", "ADDSLOTSRANGE"}
	for _, r := range ranges {
		args = append(args, r.First, r.Last)
	}
	return c.do(ctx, args...)
}

// SetSlot sends CLUSTER SETSLOT.
func (c *NodeClient) SetSlot(ctx context.Context, slot int, state SlotState, nodeID string) error {
	if state == SlotStable {
		return c.do(ctx, "CLUSTER", "SETSLOT", slot, string(state))
	}
	return c.do(ctx, "CLUSTER", "SETSLOT", slot, string(state), nodeID)
}

// Replicate sends CLUSTER REPLICATE.
func (c *NodeClient) Replicate(ctx context.Context, masterID string) error {
	return c.do(ctx, "CLUSTER", "REPLICATE", masterID)
}

// Failover sends CLUSTER FAILOVER with the mode, if any.
func (c *NodeClient) Failover(ctx context.Context, mode FailoverMode) error {
	if mode == FailoverDefault {
		return c.do(ctx, "CLUSTER", "FAILOVER")
	}
	return c.do(ctx, "CLUSTER", "FAILOVER", string(mode))
}

// Forget sends CLUSTER FORGET.
func (c *NodeClient) Forget(ctx context.Context, nodeID string) error {
	return c.do(ctx, "CLUSTER", "FORGET", nodeID)
}

// Close closes the connection.
func (c *NodeClient) Close() error { return c.rdb.Close() }

func (c *NodeClient) do(ctx context.Context, args ...any) error {
	if err := c.rdb.Do(ctx, args...).Err(); err != nil {
		return fmt.Errorf("%v on %s: %w", args, c.rdb.Options().Addr, err)
	}
	return nil
}
