package server

import "github.com/shoal-dev/shoal/node/keyspace"

// signalDeletedKeyAsReady is Redis 7.0's signalDeletedKeyAsReady: a key
// that some client is blocked on and that no longer holds a stream
// (deleted, or overwritten with another type) is signalled ready, so a
// blocked XREADGROUP answers UNBLOCKED at once instead of waiting for a
// stream that is gone. Other blocked clients run again and keep waiting.
// Called for every modified key; one branch when nobody is blocked.
func (s *Server) signalDeletedKeyAsReady(db *keyspace.DB, key []byte) {
	if s.blocking.count == 0 {
		return
	}
	if e := db.PeekNoExpire(key); e != nil && e.Type() == keyspace.TypeStream {
		return
	}
	s.signalReady(db.ID, key)
}
