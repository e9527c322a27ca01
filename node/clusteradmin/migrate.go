package clusteradmin

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// SlotMigrator is the part of a Client that moves keys between nodes and
// reads what a move needs to know.
type SlotMigrator interface {
	// CountKeysInSlots is CLUSTER COUNTKEYSINSLOT of every slot, pipelined.
	CountKeysInSlots(ctx context.Context, slots []int) ([]int64, error)
	// GetKeysInSlot is CLUSTER GETKEYSINSLOT slot count.
	GetKeysInSlot(ctx context.Context, slot, count int) ([]string, error)
	// MigrateKeys is MIGRATE ip port "" 0 timeout [REPLACE] [AUTH password |
	// AUTH2 username password] KEYS key [key ...]. A reply of NOKEY (the keys vanished) is
	// no error.
	MigrateKeys(ctx context.Context, ip string, port int, keys []string, timeout time.Duration, auth Auth, replace bool) error
	// Memory reads used_memory and maxmemory (0: no limit) of INFO memory.
	Memory(ctx context.Context) (used, maxmemory int64, err error)
}

// CountKeysInSlots pipelines CLUSTER COUNTKEYSINSLOT for every slot.
func (c *NodeClient) CountKeysInSlots(ctx context.Context, slots []int) ([]int64, error) {
	pipe := c.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(slots))
	for i, s := range slots {
		cmds[i] = pipe.ClusterCountKeysInSlot(ctx, s)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("CLUSTER COUNTKEYSINSLOT on %s: %w", c.rdb.Options().Addr, err)
	}
	out := make([]int64, len(slots))
	for i, cmd := range cmds {
		out[i] = cmd.Val()
	}
	return out, nil
}

// GetKeysInSlot sends CLUSTER GETKEYSINSLOT.
func (c *NodeClient) GetKeysInSlot(ctx context.Context, slot, count int) ([]string, error) {
	keys, err := c.rdb.ClusterGetKeysInSlot(ctx, slot, count).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER GETKEYSINSLOT %d %d on %s: %w", slot, count, c.rdb.Options().Addr, err)
	}
	return keys, nil
}

// MigrateKeys sends MIGRATE with the KEYS form.
func (c *NodeClient) MigrateKeys(ctx context.Context, ip string, port int, keys []string, timeout time.Duration, auth Auth, replace bool) error {
	if len(keys) == 0 {
		return nil
	}
	args := make([]any, 0, 10+len(keys))
	args = append(args, "MIGRATE", ip, port, "", 0, timeout.Milliseconds())
	if replace {
		args = append(args, "REPLACE")
	}
	switch {
	case auth.Username != "":
		args = append(args, "AUTH2", auth.Username, auth.Password)
	case auth.Password != "":
		args = append(args, "AUTH", auth.Password)
	}
	args = append(args, "KEYS")
	for _, k := range keys {
		args = append(args, k)
	}
	reply, err := c.rdb.Do(ctx, args...).Text()
	if err != nil {
		return fmt.Errorf("MIGRATE %s %d of %d keys on %s: %w", ip, port, len(keys), c.rdb.Options().Addr, err)
	}
	if reply != "OK" && reply != "NOKEY" {
		return fmt.Errorf("MIGRATE %s %d on %s: unexpected reply %q", ip, port, c.rdb.Options().Addr, reply)
	}
	return nil
}

// Memory reads INFO memory.
func (c *NodeClient) Memory(ctx context.Context) (used, maxmemory int64, err error) {
	reply, err := c.rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, 0, fmt.Errorf("INFO memory on %s: %w", c.rdb.Options().Addr, err)
	}
	return ParseInfoMemory(reply)
}

// ParseInfoMemory reads used_memory and maxmemory from INFO memory.
func ParseInfoMemory(reply string) (used, maxmemory int64, err error) {
	f := infoFields(reply)
	u, ok := f["used_memory"]
	if !ok {
		return 0, 0, fmt.Errorf("INFO memory: no used_memory field")
	}
	if used, err = strconv.ParseInt(u, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("INFO memory used_memory: %q is not a number", u)
	}
	if m, ok := f["maxmemory"]; ok {
		if maxmemory, err = strconv.ParseInt(m, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("INFO memory maxmemory: %q is not a number", m)
		}
	}
	return used, maxmemory, nil
}
