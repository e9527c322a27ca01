package clusteradmin

import (
	"context"
	"fmt"
)

// FunctionAdmin loads Redis Functions libraries. NodeClient implements it;
// it is apart from Client so that the fakes of Client need not.
type FunctionAdmin interface {
	// FunctionList is FUNCTION LIST WITHCODE: every library's code by name.
	FunctionList(ctx context.Context) (map[string]string, error)
	// FunctionLoad is FUNCTION LOAD REPLACE code.
	FunctionLoad(ctx context.Context, code string) error
}

var _ FunctionAdmin = (*NodeClient)(nil)

// FunctionList sends FUNCTION LIST WITHCODE and returns the code of every
// library by name.
func (c *NodeClient) FunctionList(ctx context.Context) (map[string]string, error) {
	reply, err := c.rdb.Do(ctx, "FUNCTION", "LIST", "WITHCODE").Result()
	if err != nil {
		return nil, fmt.Errorf("FUNCTION LIST on %s: %w", c.rdb.Options().Addr, err)
	}
	return parseFunctionList(reply)
}

// parseFunctionList reads FUNCTION LIST WITHCODE's reply: an array of
// libraries, each a flat array of field, value pairs (RESP2) or a map
// (RESP3) with library_name and library_code.
func parseFunctionList(reply any) (map[string]string, error) {
	libs, ok := reply.([]any)
	if !ok {
		return nil, fmt.Errorf("FUNCTION LIST: unexpected reply %T", reply)
	}
	out := make(map[string]string, len(libs))
	for i, l := range libs {
		fields := map[string]any{}
		switch f := l.(type) {
		case []any:
			for j := 0; j+1 < len(f); j += 2 {
				if k, ok := f[j].(string); ok {
					fields[k] = f[j+1]
				}
			}
		case map[any]any:
			for k, v := range f {
				if ks, ok := k.(string); ok {
					fields[ks] = v
				}
			}
		default:
			return nil, fmt.Errorf("FUNCTION LIST: library %d is a %T", i, l)
		}
		name, ok1 := fields["library_name"].(string)
		code, ok2 := fields["library_code"].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("FUNCTION LIST: library %d has no library_name or library_code", i)
		}
		out[name] = code
	}
	return out, nil
}

// FunctionLoad sends FUNCTION LOAD REPLACE code. The node's error (a
// syntax error of the code, READONLY on a replica) is returned as
// redis.Error.
func (c *NodeClient) FunctionLoad(ctx context.Context, code string) error {
	if err := c.rdb.Do(ctx, "FUNCTION", "LOAD", "REPLACE", code).Err(); err != nil {
		return fmt.Errorf("FUNCTION LOAD on %s: %w", c.rdb.Options().Addr, err)
	}
	return nil
}
