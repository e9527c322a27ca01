package cluster

import (
	"strconv"
	"strings"
	"time"
)

// CommandWriter is what Command replies with; *resp.Writer implements it.
type CommandWriter interface {
	ReplyWriter
	OK()
	Error(msg string)
	SimpleString(s string)
	Verbatim(format, s string)
}

// subcommandArity is the arity of the CLUSTER subcommands Command runs,
// counting "CLUSTER" and the subcommand (negative: at least).
var subcommandArity = map[string]int{
	"addslots": -3, "addslotsrange": -4, "bumpepoch": 2, "count-failure-reports": 3,
	"delslots": -3, "delslotsrange": -4, "failover": -2, "flushslots": 2, "forget": 3,
	"info": 2, "keyslot": 3, "meet": -4, "myid": 2, "myshardid": 2, "nodes": 2,
	"replicas": 3, "slaves": 3, "replicate": 3, "reset": -2, "set-config-epoch": 3,
	"setslot": -4, "shards": 2, "slots": 2,
}

// Answers reports whether Command answers the CLUSTER subcommand sub
// (lower case); the driver answers the others.
func Answers(sub string) bool {
	_, ok := subcommandArity[sub]
	return ok
}

// ErrSyntax is Redis's generic syntax error.
const ErrSyntax = ReplyError("ERR syntax error")

func arityError(sub string) error {
	return errorf("ERR wrong number of arguments for 'cluster|%s' command", sub)
}

// Command runs CLUSTER <args...> (args[0] is the subcommand) for the
// subcommands that only involve the cluster state, replying as Redis 7
// does. handled is false for the others (COUNTKEYSINSLOT, GETKEYSINSLOT,
// LINKS, SAVECONFIG, HELP and unknown ones), which the server answers
// itself. The Ready must be carried out (saved first) before the reply is
// flushed to the client.
func (m *Machine) Command(now time.Time, args [][]byte, w CommandWriter) (rd Ready, handled bool) {
	if len(args) == 0 {
		return Ready{}, false
	}
	sub := strings.ToLower(string(args[0]))
	arity, ok := subcommandArity[sub]
	if !ok {
		return Ready{}, false
	}
	argc := len(args) + 1 // as Redis counts: with "CLUSTER"
	if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
		w.Error(arityError(sub).Error())
		return Ready{}, true
	}
	str := func(i int) string { return string(args[i]) }
	var err error
	switch sub {
	case "myid":
		w.BulkString(m.myself.id)
	case "myshardid":
		w.BulkString(m.myself.shardID)
	case "nodes":
		w.Verbatim("txt", m.ClusterNodes())
	case "slots":
		m.ClusterSlots(w)
	case "shards":
		m.ClusterShards(w)
	case "info":
		w.Verbatim("txt", m.ClusterInfo(0))
	case "keyslot":
		w.Int(int64(KeyHashSlot(args[1])))
	case "replicas", "slaves":
		err = m.writeReplicas(w, str(1))
	case "count-failure-reports":
		var n int
		if n, err = m.CountFailureReports(now, str(1)); err == nil {
			w.Int(int64(n))
		}
	case "bumpepoch":
		var reply string
		reply, rd = m.BumpEpoch(now)
		w.SimpleString(reply)
	case "meet":
		if argc != 4 && argc != 5 {
			err = arityError(sub)
			break
		}
		cport := ""
		if argc == 5 {
			cport = str(3)
		}
		rd, err = m.Meet(now, str(1), str(2), cport)
	case "forget":
		rd, err = m.Forget(now, str(1))
	case "reset":
		hard := false
		switch {
		case argc > 3:
			err = arityError(sub)
		case argc == 3 && strings.EqualFold(str(1), "hard"):
			hard = true
		case argc == 3 && !strings.EqualFold(str(1), "soft"):
			err = ErrSyntax
		}
		if err == nil {
			rd, err = m.Reset(now, hard)
		}
	case "addslots", "delslots":
		var slots []int
		if slots, err = parseSlots(args[1:]); err == nil {
			rd, err = m.changeSlots(now, singleSlots(slots), sub == "delslots")
		}
	case "addslotsrange", "delslotsrange":
		if argc%2 == 1 {
			err = arityError(sub)
			break
		}
		var slots []int
		if slots, err = parseSlots(args[1:]); err == nil {
			ranges := make([]SlotRange, 0, len(slots)/2)
			for i := 0; i < len(slots); i += 2 {
				ranges = append(ranges, SlotRange{slots[i], slots[i+1]})
			}
			rd, err = m.changeSlots(now, ranges, sub == "delslotsrange")
		}
	case "flushslots":
		rd, err = m.FlushSlots(now)
	case "setslot":
		rd, err = m.setSlotCommand(now, args[1:])
	case "replicate":
		rd, err = m.Replicate(now, str(1))
	case "failover":
		mode := FailoverDefault
		switch {
		case argc > 3:
			err = arityError(sub)
		case argc == 3 && strings.EqualFold(str(1), "force"):
			mode = FailoverForce
		case argc == 3 && strings.EqualFold(str(1), "takeover"):
			mode = FailoverTakeover
		case argc == 3:
			err = ErrSyntax
		}
		if err == nil {
			rd, err = m.Failover(now, mode)
		}
	case "set-config-epoch":
		epoch, perr := strconv.ParseInt(str(1), 10, 64)
		if perr != nil {
			err = ReplyError("ERR value is not an integer or out of range")
			break
		}
		rd, err = m.SetConfigEpoch(now, epoch)
	}
	switch {
	case err != nil:
		w.Error(err.Error())
	case sub == "meet" || sub == "forget" || sub == "reset" || sub == "addslots" || sub == "delslots" ||
		sub == "addslotsrange" || sub == "delslotsrange" || sub == "flushslots" || sub == "setslot" ||
		sub == "replicate" || sub == "failover" || sub == "set-config-epoch":
		w.OK()
	}
	return rd, true
}

// parseSlots parses every argument with getSlotOrReply.
func parseSlots(args [][]byte) ([]int, error) {
	slots := make([]int, len(args))
	for i, a := range args {
		s, err := ParseSlot(string(a))
		if err != nil {
			return nil, err
		}
		slots[i] = s
	}
	return slots, nil
}

// setSlotCommand parses CLUSTER SETSLOT <slot> <action> [node].
func (m *Machine) setSlotCommand(now time.Time, args [][]byte) (Ready, error) {
	if m.myself.isReplica() {
		return Ready{}, ReplyError("ERR Please use SETSLOT only with masters.")
	}
	slot, err := ParseSlot(string(args[0]))
	if err != nil {
		return Ready{}, err
	}
	action := strings.ToLower(string(args[1]))
	switch {
	case action == SetSlotStable && len(args) == 2:
		return m.SetSlot(now, slot, action, "")
	case (action == SetSlotMigrating || action == SetSlotImporting || action == SetSlotNode) && len(args) == 3:
		return m.SetSlot(now, slot, action, string(args[2]))
	}
	return Ready{}, ErrSetSlotSyntax
}

// writeReplicas is CLUSTER REPLICAS: the CLUSTER NODES lines of a master's
// replicas.
func (m *Machine) writeReplicas(w CommandWriter, id string) error {
	n := m.lookup(id)
	if n == nil {
		return errorf("ERR Unknown node %s", id)
	}
	if n.isReplica() {
		return ReplyError("ERR The specified node is not a master")
	}
	w.ArrayLen(len(n.replicas))
	for _, r := range n.replicas {
		w.BulkString(string(m.appendNodeDescription(nil, r, false)))
	}
	return nil
}
