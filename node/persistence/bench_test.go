package persistence

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/shoal-dev/shoal/node/keyspace"
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

func BenchmarkSnapshotWrite(b *testing.B) {
	db := populated(benchKeys)
	codecs := KeyspaceCodecs(nil, nil, nil, nil)
	b.ResetTimer()
	for range b.N {
		w := NewSnapshotWriter(io.Discard)
		if err := WriteDatabases(w, codecs, []*keyspace.DB{db}); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchKeys, "ns/key")
}

func BenchmarkSnapshotLoad(b *testing.B) {
	codecs := KeyspaceCodecs(nil, nil, nil, nil)
	var buf bytes.Buffer
	w := NewSnapshotWriter(&buf)
	if err := WriteDatabases(w, codecs, []*keyspace.DB{populated(benchKeys)}); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		db := keyspace.New(0, keyspace.NewEnv())
		err := ReadSnapshot(bytes.NewReader(buf.Bytes()), "bench", SnapshotHandler{Reuse: true, Key: func(r Record) error {
			return LoadKey(db, codecs, r, true)
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchKeys, "ns/key")
}
