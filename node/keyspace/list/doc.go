// Package list is the value of a Redis list key: a quicklist, that is a
// doubly linked list of nodes, each node one byte buffer that packs many
// elements (list-max-listpack-size decides how big a node may grow; -2, the
// default, means 8 KB). Pushes and pops at both ends are O(1); index access
// walks nodes from the nearer end, as Redis does.
//
// It owns the element storage and the list semantics of the LPUSH family:
// negative indexes, LRANGE/LTRIM range normalisation, LINSERT, LREM count
// signs, LPOS RANK/COUNT/MAXLEN, the pop-then-push of LMOVE, and iteration
// for snapshot and AOF writers.
//
// It must not know about keys, databases, expiry, replies, argument parsing,
// blocking clients or configuration files: the command layer parses arguments,
// words errors, and deletes a key whose list became empty. A List is not safe
// for concurrent use; the caller serialises access.
//
// Byte slices returned by List methods alias the list's own buffers: they
// stay valid until the next change to that list, so write them to the reply
// (or copy them) before changing the list again.
package list
