package server

import (
	"fmt"
	"time"

	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/persistence"
)

// A replica's full sync (node/replication) loads the master's snapshot
// into a data set beside the live one, which then replaces it whole
// (SnapshotForReplica, in subsystem.go, is the master's side).

// Dataset is a data set loaded beside the live one (a replica's full
// sync), which no one else sees until ReplaceDataset: loading it needs no
// lock.
type Dataset struct {
	// DBs are its databases, one per database of the server.
	DBs    []*keyspace.DB
	codecs *persistence.Codecs
	// functions is the function libraries' payload of the snapshot
	// (FunctionsAux, or its RDB_OPCODE_FUNCTION2 records), nil when it
	// had none.
	functions []byte
	codes     [][]byte
}

// Function takes a library's code of the snapshot (a
// persistence.SnapshotHandler Function: Redis writes its libraries as
// RDB_OPCODE_FUNCTION2 records).
func (d *Dataset) Function(code []byte) error {
	d.codes = append(d.codes, code)
	d.functions = persistence.FunctionsPayload(d.codes)
	return nil
}

// Aux takes an aux field of the snapshot (a persistence.SnapshotHandler
// Aux): the function libraries it carries.
func (d *Dataset) Aux(name, value []byte) error {
	if string(name) == FunctionsAuxField {
		d.functions = append([]byte(nil), value...)
	}
	return nil
}

// NewDataset makes an empty data set (lock held). Its databases have an
// Env of their own: the server's is not for use outside the lock.
func (s *Server) NewDataset() *Dataset {
	env := keyspace.NewEnv()
	env.Now = time.Now().UnixMilli()
	env.LFU, env.LFULogFactor, env.LFUDecayTime = s.env.LFU, s.env.LFULogFactor, s.env.LFUDecayTime
	env.NoExpire = true
	d := &Dataset{codecs: s.codecs}
	for i := range s.dbs {
		d.DBs = append(d.DBs, keyspace.New(i, env))
	}
	return d
}

// Load adds one key of a snapshot read with SnapshotHandler.Reuse (no
// lock needed).
func (d *Dataset) Load(r persistence.Record) error {
	if r.DB >= len(d.DBs) {
		return fmt.Errorf("database %d out of range (%d databases)", r.DB, len(d.DBs))
	}
	return persistence.LoadKey(d.DBs[r.DB], d.codecs, r, true)
}

// ReplaceDataset replaces the data set with d (lock held), as a change of
// every key. The DatasetReplaced hooks run first: a background save or
// AOF rewrite in progress is stopped, as Redis kills its child before
// loading the master's data (its point in time is gone), and the AOF
// starts again from the new data set.
func (s *Server) ReplaceDataset(d *Dataset) {
	for _, f := range s.hooks.datasetReplaced {
		f()
	}
	for i, db := range s.dbs {
		s.flushDB(db)
		db.SwapWith(d.DBs[i])
	}
	s.trackingFlush()
	if s.keyIndex != nil {
		s.dbs[0].SetIndex(s.keyIndex)
	}
	s.replaceAllFunctions(d.functions)
	s.dirty++
}
