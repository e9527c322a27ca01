package command

// NotifyClass is a class of keyspace events, as Redis's NOTIFY_* flags
// and the letters of notify-keyspace-events.
type NotifyClass uint16

// The event classes (Redis's NOTIFY_GENERIC ... NOTIFY_NEW). A handler
// passes the class of the event it fires; the engine decides from
// notify-keyspace-events whether anybody is told.
const (
	NotifyGeneric NotifyClass = 1 << iota // g: DEL, EXPIRE, RENAME, ...
	NotifyString                          // $
	NotifyList                            // l
	NotifySet                             // s
	NotifyHash                            // h
	NotifyZSet                            // z
	NotifyExpired                         // x
	NotifyEvicted                         // e
	NotifyStream                          // t
	NotifyKeyMiss                         // m
	NotifyModule                          // d
	NotifyNew                             // n
)

// Notify fires the keyspace event event of class about key in the
// client's database (Redis's notifyKeyspaceEvent). Call it after the
// change, with the event name Redis uses (e.g. "set", "lpush", "expire",
// "del"). It costs one flag test when nobody listens.
func (c *Ctx) Notify(class NotifyClass, event string, key []byte) {
	c.eng.Notify(class, event, c.DB.ID, key)
}

// NotifyIn is Notify for a key of database db (MOVE, COPY ... DB).
func (c *Ctx) NotifyIn(class NotifyClass, event string, db int, key []byte) {
	c.eng.Notify(class, event, db, key)
}
