// Package list is the list command family (LPUSH ... LMPOP and the
// blocking BLPOP, BLMOVE, BLMPOP), as Redis 7.0's t_list.c, over
// node/keyspace/list. The argument checks follow t_list.c in order, since
// the order decides which error a client sees. Specs and handlers are one
// row each (specs.go).
package list
