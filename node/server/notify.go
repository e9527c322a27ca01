package server

import (
	"strconv"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/config"
	"github.com/shoal-dev/shoal/node/keyspace"
)

// notifyClassShift maps a command.NotifyClass onto config's
// notify-keyspace-events flags, which keep K and E in their two low bits.
const notifyClassShift = 2

// notifyKeyspaceEvent publishes a keyspace event (Redis's
// notifyKeyspaceEvent): `__keyspace@<db>__:<key>` with the event as the
// message and `__keyevent@<db>__:<event>` with the key, as
// notify-keyspace-events asks. When the class is off (the default) it
// costs one flag test. The messages go to this node's subscribers only:
// Redis does not carry keyspace events over the cluster bus.
func (s *Server) notifyKeyspaceEvent(class command.NotifyClass, event string, db int, key []byte) {
	flags := s.cfg.NotifyKeyspaceEvents
	if flags&(int(class)<<notifyClassShift) == 0 {
		return
	}
	if flags&config.NotifyKeyspace != 0 {
		s.Publish(eventChannel("__keyspace@", db, key), []byte(event))
	}
	if flags&config.NotifyKeyevent != 0 {
		s.Publish(eventChannel("__keyevent@", db, []byte(event)), key)
	}
}

// eventChannel is prefix<db>__:<name>.
func eventChannel(prefix string, db int, name []byte) []byte {
	ch := make([]byte, 0, len(prefix)+len("__:")+4+len(name))
	ch = append(ch, prefix...)
	ch = strconv.AppendInt(ch, int64(db), 10)
	ch = append(ch, "__:"...)
	return append(ch, name...)
}

// applyNotifyConfig follows notify-keyspace-events where the keyspace
// needs telling: the "new" event is fired by the keyspace itself when a
// key is added (Redis's dbAdd), through a hook set only while the class
// is on.
func (s *Server) applyNotifyConfig() {
	if s.cfg.NotifyKeyspaceEvents&config.NotifyNew != 0 {
		s.env.Added = s.keyAdded
	} else {
		s.env.Added = nil
	}
}

// keyAdded fires the "new" event of a key a command created.
func (s *Server) keyAdded(db *keyspace.DB, key string) {
	s.notifyKeyspaceEvent(command.NotifyNew, "new", db.ID, []byte(key))
}
