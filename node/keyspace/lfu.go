package keyspace

// LRU and LFU clocks as Redis keeps them in the 24 bits of robj.lru.
const (
	lruClockMax        = 1<<24 - 1
	lruClockResolution = 1000 // ms
	lfuInitVal         = 5
)

// LRUClock is the current LRU clock (seconds, 24 bits).
func (env *Env) LRUClock() uint32 {
	return uint32(env.Now/lruClockResolution) & lruClockMax
}

func (env *Env) lfuMinutes() uint32 { return uint32(env.Now/60000) & 65535 }

func (db *DB) initialClock() uint32 {
	if db.env.LFU {
		return db.env.lfuMinutes()<<8 | lfuInitVal
	}
	return db.env.LRUClock()
}

func (db *DB) touch(e *Entry) {
	if db.env.LFU {
		c := db.LFUCounter(e)
		c = db.lfuLogIncr(c)
		e.setClock(db.env.lfuMinutes()<<8 | uint32(c))
		return
	}
	e.setClock(db.env.LRUClock())
}

// IdleMillis is the estimated idle time of e in ms (OBJECT IDLETIME, LRU
// eviction); meaningful only in LRU mode.
func (db *DB) IdleMillis(e *Entry) int64 {
	now := db.env.LRUClock()
	clock := e.clock()
	if now >= clock {
		return int64(now-clock) * lruClockResolution
	}
	return int64(now+(lruClockMax-clock)) * lruClockResolution
}

// LFUCounter is e's access-frequency counter after decay (OBJECT FREQ).
func (db *DB) LFUCounter(e *Entry) uint8 {
	ldt := e.clock() >> 8
	counter := e.clock() & 255
	if db.env.LFUDecayTime > 0 {
		now := db.env.lfuMinutes()
		var elapsed uint32
		if now >= ldt {
			elapsed = now - ldt
		} else {
			elapsed = 65535 - ldt + now
		}
		periods := elapsed / uint32(db.env.LFUDecayTime)
		if periods > counter {
			counter = 0
		} else {
			counter -= periods
		}
	}
	return uint8(counter)
}

func (db *DB) lfuLogIncr(counter uint8) uint8 {
	if counter == 255 {
		return 255
	}
	base := float64(counter) - lfuInitVal
	if base < 0 {
		base = 0
	}
	p := 1.0 / (base*float64(db.env.LFULogFactor) + 1)
	if float64(db.env.rand(1<<30))/(1<<30) < p {
		counter++
	}
	return counter
}

// SetAccessHint applies the access information a snapshot saved with a
// key (RDB_OPCODE_FREQ, RDB_OPCODE_IDLE) as Redis's objectSetLRUOrLFU
// does when loading: under an LFU policy the counter freq (when >= 0),
// otherwise the idle time idleSecs (when >= 0).
func (db *DB) SetAccessHint(e *Entry, idleSecs int64, freq int) {
	switch {
	case db.env.LFU && freq >= 0:
		e.setClock(db.env.lfuMinutes()<<8 | uint32(min(freq, 255)))
	case !db.env.LFU && idleSecs >= 0:
		now := int64(db.env.LRUClock())
		abs := now - idleSecs*1000/lruClockResolution
		if abs < 0 {
			abs = (now + lruClockMax/2) % lruClockMax
		}
		e.setClock(uint32(abs))
	}
}
