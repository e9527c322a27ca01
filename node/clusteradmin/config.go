package clusteradmin

import (
	"context"
	"fmt"
	"sort"
)

// ConfigGet sends CONFIG GET with every key (Redis 7 takes several) and
// returns the values the node reported.
func (c *NodeClient) ConfigGet(ctx context.Context, keys ...string) (map[string]string, error) {
	if len(keys) == 0 {
		return map[string]string{}, nil
	}
	args := []any{"CONFIG", "GET"}
	for _, k := range keys {
		args = append(args, k)
	}
	reply, err := c.rdb.Do(ctx, args...).Result()
	if err != nil {
		return nil, fmt.Errorf("%v on %s: %w", args, c.rdb.Options().Addr, err)
	}
	return parseConfigGet(reply)
}

// parseConfigGet reads the reply of CONFIG GET: a flat array of key, value
// pairs in RESP2, a map in RESP3.
func parseConfigGet(reply any) (map[string]string, error) {
	out := map[string]string{}
	switch r := reply.(type) {
	case []any:
		if len(r)%2 != 0 {
			return nil, fmt.Errorf("CONFIG GET: odd number of elements (%d)", len(r))
		}
		for i := 0; i < len(r); i += 2 {
			k, ok1 := r[i].(string)
			v, ok2 := r[i+1].(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("CONFIG GET: element %d is not a string pair", i)
			}
			out[k] = v
		}
	case map[any]any:
		for k, v := range r {
			ks, ok1 := k.(string)
			vs, ok2 := v.(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("CONFIG GET: entry %v is not a string pair", k)
			}
			out[ks] = vs
		}
	default:
		return nil, fmt.Errorf("CONFIG GET: unexpected reply %T", reply)
	}
	return out, nil
}

// ConfigSet sends one CONFIG SET with every key, sorted, so that the node
// applies all of them or none.
func (c *NodeClient) ConfigSet(ctx context.Context, values map[string]string) error {
	if len(values) == 0 {
		return nil
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := []any{"CONFIG", "SET"}
	for _, k := range keys {
		args = append(args, k, values[k])
	}
	return c.do(ctx, args...)
}
