package hyperloglog

import (
	"strings"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/hll"
)

// Redis's replies for values that are not HyperLogLogs.
const (
	errNotHLL  = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errInvalid = "INVALIDOBJ Corrupted HLL object detected"
)

func maxSparse(c *command.Ctx) int {
	n := c.Limits().HLLSparseMaxBytes
	if n > 1<<40 {
		n = 1 << 40
	}
	return int(n)
}

// hllEntry checks that an existing entry holds a HyperLogLog
// (isHLLObjectOrReply); it replies and returns false otherwise.
func hllEntry(c *command.Ctx, e *keyspace.Entry) bool {
	if e.Type() != keyspace.TypeString {
		c.WrongType()
		return false
	}
	if !hll.IsHLL(e.Bytes()) {
		c.Error(errNotHLL)
		return false
	}
	return true
}

// cmdPfadd is PFADD key [element ...].
func cmdPfadd(c *command.Ctx) {
	key := c.Args[1]
	e := c.LookupWrite(key)
	updated := 0
	if e == nil {
		e = c.DB.AddString(key, hll.New())
		updated++
	} else if !hllEntry(c, e) {
		return
	}
	h, max := e.Bytes(), maxSparse(c)
	for _, ele := range c.Args[2:] {
		var changed bool
		var err error
		h, changed, err = hll.Add(h, ele, max)
		if err != nil {
			// Redis keeps what earlier elements changed, unpropagated.
			e.SetBytes(h)
			c.Error(errInvalid)
			return
		}
		if changed {
			updated++
		}
	}
	e.SetBytes(h)
	if updated == 0 {
		c.W.Int(0)
		return
	}
	hll.InvalidateCache(h)
	c.Modified(key)
	c.AddDirty(int64(updated - 1))
	c.Notify(command.NotifyString, "pfadd", key)
	c.W.Int(1)
}

// cmdPfcount is PFCOUNT key [key ...]: one key answers (and caches in
// the value's header, a change that propagates) its cardinality; several
// keys answer the cardinality of their union without writing.
func cmdPfcount(c *command.Ctx) {
	if len(c.Args) > 2 {
		var max hll.Raw
		if _, ok := mergeKeys(c, c.Args[1:], &max); ok {
			c.W.Int(int64(max.Count()))
		}
		return
	}
	key := c.Args[1]
	e := c.LookupRead(key)
	if e == nil {
		c.W.Int(0)
		return
	}
	if !hllEntry(c, e) {
		return
	}
	if card, ok := hll.CachedCount(e.Bytes()); ok {
		c.W.Int(int64(card))
		return
	}
	card, err := hll.Count(e.Bytes())
	if err != nil {
		c.Error(errInvalid)
		return
	}
	e = c.LookupWrite(key) // claims the value for a running snapshot
	hll.SetCachedCount(e.Bytes(), card)
	c.Modified(key)
	c.W.Int(int64(card))
}

// mergeKeys merges the HyperLogLogs at keys (missing ones are empty)
// into max, and reports whether any was dense; ok is false when it
// replied an error.
func mergeKeys(c *command.Ctx, keys [][]byte, max *hll.Raw) (dense, ok bool) {
	for _, key := range keys {
		e := c.LookupRead(key)
		if e == nil {
			continue
		}
		if !hllEntry(c, e) {
			return false, false
		}
		if hll.Encoding(e.Bytes()) == hll.EncDense {
			dense = true
		}
		if max.Merge(e.Bytes()) != nil {
			c.Error(errInvalid)
			return false, false
		}
	}
	return dense, true
}

// cmdPfmerge is PFMERGE destkey [sourcekey ...]: the register-wise
// maximum of every input (destkey included) into destkey, dense when any
// input is dense.
func cmdPfmerge(c *command.Ctx) {
	var max hll.Raw
	dense, ok := mergeKeys(c, c.Args[1:], &max)
	if !ok {
		return
	}
	dst := c.Args[1]
	e := c.LookupWrite(dst)
	if e == nil {
		e = c.DB.AddString(dst, hll.New())
	}
	h := e.Bytes()
	if dense {
		d, err := hll.ToDense(h)
		if err != nil {
			c.Error(errInvalid)
			return
		}
		h = d
	}
	ms := maxSparse(c)
	for j, v := range max {
		if v != 0 {
			h, _, _ = hll.Set(h, j, v, ms) // Redis ignores a failed sparse set here
		}
	}
	hll.InvalidateCache(h)
	e.SetBytes(h)
	c.Modified(dst)
	// PFMERGE fires a pfadd event, "since in theory this is a mass-add".
	c.Notify(command.NotifyString, "pfadd", dst)
	c.W.OK()
}

// cmdPfdebug is PFDEBUG GETREG|DECODE|ENCODING|TODENSE key.
func cmdPfdebug(c *command.Ctx) {
	sub, key := c.Args[1], c.Args[2]
	e := c.LookupWrite(key)
	if e == nil {
		c.Error("ERR The specified key does not exist")
		return
	}
	if !hllEntry(c, e) {
		return
	}
	h := e.Bytes()
	switch {
	case command.EqFold(sub, "getreg"):
		if hll.Encoding(h) == hll.EncSparse {
			d, err := hll.ToDense(h)
			if err != nil {
				c.Error(errInvalid)
				return
			}
			e.SetBytes(d)
			h = d
			c.AddDirty(1) // forces propagation of the encoding change
		}
		regs := hll.DenseRegisters(h)
		c.W.ArrayLen(len(regs))
		for _, r := range regs {
			c.W.Int(int64(r))
		}
	case command.EqFold(sub, "decode"):
		if hll.Encoding(h) != hll.EncSparse {
			c.Error("ERR HLL encoding is not sparse")
			return
		}
		c.W.BulkString(hll.Decode(h))
	case command.EqFold(sub, "encoding"):
		if hll.Encoding(h) == hll.EncDense {
			c.W.SimpleString("dense")
		} else {
			c.W.SimpleString("sparse")
		}
	case command.EqFold(sub, "todense"):
		conv := 0
		if hll.Encoding(h) == hll.EncSparse {
			d, err := hll.ToDense(h)
			if err != nil {
				c.Error(errInvalid)
				return
			}
			e.SetBytes(d)
			conv = 1
			c.AddDirty(1)
		}
		c.W.Int(int64(conv))
	default:
		c.Error("ERR Unknown PFDEBUG subcommand '" + strings.NewReplacer("\r", " ", "\n", " ").Replace(string(sub)) + "'")
	}
}

// cmdPfselftest is PFSELFTEST: Redis's self-test of the register access
// and of sparse/dense agreement, bounded (Redis adds ten million
// elements; the same checks at the checkpoints up to 20000 keep the
// server lock short).
func cmdPfselftest(c *command.Ctx) {
	if msg := hll.SelfTest(20000); msg != "" {
		c.Error("ERR " + msg)
		return
	}
	c.W.OK()
}
