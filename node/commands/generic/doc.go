// Package generic is the generic command family (Redis's keyspace group):
// DEL, EXISTS, TYPE, the EXPIRE/TTL family, PERSIST, RENAME, KEYS, SCAN,
// RANDOMKEY, TOUCH, UNLINK, COPY, MOVE and OBJECT, as Redis 7.0's db.c and
// expire.c. Specs and handlers are one row each (specs.go; see node/server's
// package doc for what a handler may touch).
package generic
