package importlink

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/node/cluster"
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/commands"
)

// Batch is what a stretch of the source's stream becomes: the commands
// for each master of the cluster, in stream order.
type Batch struct {
	PerMaster [][][]any
	// Commands is the number of commands in the batch.
	Commands int
}

// NewBatch is an empty batch for masters masters.
func NewBatch(masters int) *Batch { return &Batch{PerMaster: make([][][]any, masters)} }

// Reset empties the batch for reuse.
func (b *Batch) Reset() {
	for i := range b.PerMaster {
		b.PerMaster[i] = b.PerMaster[i][:0]
	}
	b.Commands = 0
}

func (b *Batch) add(master int, args []any) {
	b.PerMaster[master] = append(b.PerMaster[master], args)
	b.Commands++
}

// Router turns the source's commands into commands for the cluster's
// masters. It follows SELECT and MULTI/EXEC of the stream.
type Router struct {
	table   *command.Table
	owner   func(key []byte) int
	masters int
	db      int
	inMulti bool
	queued  [][]any // the commands of the open transaction, database 0 only
	// Skipped counts the commands of other databases than 0, which a
	// cluster does not have.
	Skipped int64
	// FlushShard, when set, is called for a FLUSHALL (or FLUSHDB of
	// database 0) instead of sending it to every master: a replay of one
	// shard's history, whose flush empties that shard's slots only. It
	// gets the batch routed so far, which must reach the cluster first.
	FlushShard func(b *Batch) error
}

// NewRouter makes a router for a cluster of masters masters; owner is the
// master of a key.
func NewRouter(masters int, owner func(key []byte) int) (*Router, error) {
	t, err := command.NewTable(append(command.Groups(), commands.All()...)...)
	if err != nil {
		return nil, err
	}
	return &Router{table: t, owner: owner, masters: masters}, nil
}

// Reset forgets the stream's state (a full resynchronisation starts a new
// stream in database 0).
func (r *Router) Reset() {
	r.db, r.inMulti, r.queued = 0, false, r.queued[:0]
}

// UnroutableError is a command the cluster cannot apply: the link stops.
type UnroutableError struct{ Msg string }

func (e *UnroutableError) Error() string { return e.Msg }

// Route adds what args (one command of the source's stream) does to b.
func (r *Router) Route(args [][]byte, b *Batch) error {
	if len(args) == 0 {
		return nil
	}
	name := strings.ToLower(string(args[0]))
	if r.FlushShard != nil && (name == "flushall" || name == "flushdb" && r.db == 0) {
		if r.inMulti {
			return &UnroutableError{strings.ToUpper(name) + " in a transaction cannot be replayed on a shard's slots"}
		}
		return r.FlushShard(b)
	}
	switch name {
	case "ping", "replconf", "publish", "spublish":
		return nil // not data
	case "select":
		if len(args) != 2 {
			return &UnroutableError{"SELECT with " + strconv.Itoa(len(args)-1) + " arguments"}
		}
		n, err := strconv.Atoi(string(args[1]))
		if err != nil || n < 0 {
			return &UnroutableError{fmt.Sprintf("SELECT %q", args[1])}
		}
		r.db = n
		return nil
	case "multi":
		r.inMulti, r.queued = true, r.queued[:0]
		return nil
	case "exec":
		if !r.inMulti {
			return nil
		}
		r.inMulti = false
		return r.routeTx(r.queued, b)
	case "discard":
		r.inMulti, r.queued = false, r.queued[:0]
		return nil
	}
	if r.db != 0 {
		r.Skipped++
		return nil
	}
	cmd := toAny(args)
	if r.inMulti {
		r.queued = append(r.queued, cmd)
		return nil
	}
	routed, err := r.split(args, cmd)
	if err != nil {
		return err
	}
	for _, rc := range routed {
		b.add(rc.master, rc.args)
	}
	return nil
}

// routed is one command for one master; slot is the slot of its keys
// (-1 for a keyless one).
type routed struct {
	master int
	slot   int
	args   []any
}

// routeTx adds a transaction: as one when every command of it is on the
// same slot (a cluster refuses a transaction over several), command by
// command otherwise.
func (r *Router) routeTx(cmds [][]any, b *Batch) error {
	var all []routed
	for _, c := range cmds {
		args := make([][]byte, len(c))
		for i, a := range c {
			args[i] = []byte(a.(string))
		}
		rs, err := r.split(args, c)
		if err != nil {
			return err
		}
		all = append(all, rs...)
	}
	if len(all) == 0 {
		return nil
	}
	one := all[0].slot >= 0
	for _, rc := range all[1:] {
		one = one && rc.slot == all[0].slot
	}
	if one && len(all) > 1 {
		b.add(all[0].master, []any{"MULTI"})
		for _, rc := range all {
			b.add(rc.master, rc.args)
		}
		b.add(all[0].master, []any{"EXEC"})
		return nil
	}
	for _, rc := range all {
		b.add(rc.master, rc.args)
	}
	return nil
}

// split routes one command: to the master of its keys, to every master
// (a keyless command that changes the data set: FLUSHALL, FUNCTION), or
// split by master for the commands whose keys are independent (DEL,
// UNLINK, MSET).
func (r *Router) split(args [][]byte, cmd []any) ([]routed, error) {
	spec, _ := r.table.LookupArgs(args)
	if spec == nil {
		return nil, &UnroutableError{fmt.Sprintf("unknown command %q in the source's stream", args[0])}
	}
	name := strings.ToLower(string(args[0]))
	keys, ok := spec.GetKeys(args, nil)
	if !ok {
		return nil, &UnroutableError{fmt.Sprintf("%s with arguments that do not fit its key specification", strings.ToUpper(name))}
	}
	if len(keys) == 0 {
		switch name {
		case "flushall", "flushdb", "function":
			out := make([]routed, r.masters)
			for i := range out {
				out[i] = routed{i, -1, cmd}
			}
			return out, nil
		}
		return nil, &UnroutableError{fmt.Sprintf("%s (no key) cannot be applied to a cluster", strings.ToUpper(name))}
	}
	slot := cluster.KeyHashSlot(args[keys[0]])
	same := true
	for _, k := range keys[1:] {
		same = same && cluster.KeyHashSlot(args[k]) == slot
	}
	if same {
		return []routed{{r.owner(args[keys[0]]), slot, cmd}}, nil
	}
	switch name {
	case "del", "unlink":
		return r.splitKeys(args, keys, 1), nil
	case "mset", "msetnx":
		// The source applied it (MSETNX only when no key existed): its
		// pairs are plain sets on each master.
		out := r.splitKeys(args, keys, 2)
		for i := range out {
			out[i].args[0] = "MSET"
		}
		return out, nil
	}
	return nil, &UnroutableError{fmt.Sprintf("%s over keys of several slots cannot be applied to a cluster (use hash tags on the source)", strings.ToUpper(name))}
}

// splitKeys makes one command per slot of the keys at positions keys,
// each followed by width-1 arguments (its value).
func (r *Router) splitKeys(args [][]byte, keys []int, width int) []routed {
	bySlot := map[int]int{}
	var out []routed
	for _, k := range keys {
		s := cluster.KeyHashSlot(args[k])
		i, ok := bySlot[s]
		if !ok {
			i = len(out)
			bySlot[s] = i
			out = append(out, routed{r.owner(args[k]), s, []any{string(args[0])}})
		}
		for j := k; j < k+width && j < len(args); j++ {
			out[i].args = append(out[i].args, string(args[j]))
		}
	}
	return out
}

// toAny copies a command's arguments (the reader reuses its buffers).
func toAny(args [][]byte) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}
