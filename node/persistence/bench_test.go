package persistence

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"syscall"
	"testing"

	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// populated is a database of n string keys as DEBUG POPULATE makes them.
func populated(n int) *keyspace.DB {
	db := keyspace.New(0, keyspace.NewEnv())
	for i := range n {
		v := fmt.Appendf(nil, "value:%d", i)
		v = append(v, make([]byte, 32-len(v))...)
		db.AddString(fmt.Appendf(nil, "key:%d", i), v)
	}
	return db
}

const benchKeys = 200_000

// BenchmarkSnapshotWrite: SAVE's path (WriteDatabases), with Redis's
// default rdbcompression yes and with no.
func BenchmarkSnapshotWrite(b *testing.B) {
	for _, compress := range []bool{true, false} {
		b.Run(fmt.Sprintf("compress=%v", compress), func(b *testing.B) { benchWrite(b, compress) })
	}
}

func benchWrite(b *testing.B, compress bool) {
	db := populated(benchKeys)
	codecs := KeyspaceCodecs(nil, nil, nil, nil)
	b.ReportAllocs()
	b.ResetTimer()
	t0 := threadCPUTime()
	threadCPUPerOp(b, func(int) {
		w := NewSnapshotWriter(io.Discard)
		w.SetOptions(SnapshotOptions{Compress: compress})
		if err := WriteDatabases(w, codecs, []*keyspace.DB{db}); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchKeys, "ns/key")
	b.ReportMetric(float64(threadCPUTime()-t0)/float64(b.N)/benchKeys, "cpu-ns/key")
}

// BenchmarkSnapshotLoad: the start-up load of a file written with
// rdbcompression yes and no.
func BenchmarkSnapshotLoad(b *testing.B) {
	for _, compress := range []bool{true, false} {
		b.Run(fmt.Sprintf("compress=%v", compress), func(b *testing.B) { benchLoad(b, compress) })
	}
}

func benchLoad(b *testing.B, compress bool) {
	codecs := KeyspaceCodecs(nil, nil, nil, nil)
	var buf bytes.Buffer
	w := NewSnapshotWriter(&buf)
	w.SetOptions(SnapshotOptions{Compress: compress})
	if err := WriteDatabases(w, codecs, []*keyspace.DB{populated(benchKeys)}); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	t0 := threadCPUTime()
	threadCPUPerOp(b, func(int) {
		db := keyspace.New(0, keyspace.NewEnv())
		err := ReadSnapshot(bytes.NewReader(buf.Bytes()), "bench", SnapshotHandler{Reuse: true, Key: func(r Record) error {
			return LoadKey(db, codecs, r, true)
		}, ResizeDB: func(_, keys, expires int) error {
			db.Reserve(keys, expires) // as the node's loader does
			return nil
		}})
		if err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(threadCPUTime()-t0)/float64(b.N)/benchKeys, "cpu-ns/key")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchKeys, "ns/key")
}

// BenchmarkSnapshotKey: the writer's own cost per key (a record already
// encoded, in cache), with and without rdbcompression: what SAVE adds to
// the walk of the keyspace.
func BenchmarkSnapshotKey(b *testing.B) {
	for _, compress := range []bool{true, false} {
		b.Run(fmt.Sprintf("compress=%v", compress), func(b *testing.B) {
			const n = 1024
			keys := make([][]byte, n)
			vals := make([][]byte, n)
			for i := range n {
				keys[i] = fmt.Appendf(nil, "key:%d", i)
				v := fmt.Appendf(nil, "value:%d", i)
				vals[i] = rdb.AppendStringObject(nil, append(v, make([]byte, 32-len(v))...))
			}
			w := NewSnapshotWriter(io.Discard)
			w.SetOptions(SnapshotOptions{Compress: compress})
			b.ReportAllocs()
			b.ResetTimer()
			threadCPUPerOp(b, func(i int) {
				if err := w.Key(0, keys[i%n], NoExpire, TypeString, vals[i%n]); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// threadCPUPerOp runs f b.N times on one OS thread and reports the
// thread's CPU time per op ("cpu-ns/op"): on a shared machine the wall
// time per op counts the time other processes had the core, this does not.
func threadCPUPerOp(b *testing.B, f func(i int)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := threadCPUTime()
	for i := range b.N {
		f(i)
	}
	b.ReportMetric(float64(threadCPUTime()-t0)/float64(b.N), "cpu-ns/op")
}

// threadCPUTime is the calling thread's user+system CPU time in ns.
func threadCPUTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

const rusageThread = 1 // RUSAGE_THREAD (Linux)
