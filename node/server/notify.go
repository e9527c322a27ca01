package server

import "github.com/shoal-dev/shoal/node/command"

// notifyKeyspaceEvent publishes a keyspace event (Redis's
// notifyKeyspaceEvent). Keyspace notifications are not served yet:
// notify-keyspace-events is stored and the events go nowhere.
func (s *Server) notifyKeyspaceEvent(class command.NotifyClass, event string, db int, key []byte) {
}
