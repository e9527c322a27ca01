// Package sort is SORT and SORT_RO, as Redis 7.0's sortCommandGeneric
// (sort.c): the elements of a list, set or sorted set, sorted numerically
// or (ALPHA) as strings, by themselves or by the keys a BY pattern names
// (`*` replaced by the element, `->field` reading a hash field), or not at
// all (BY a pattern without `*`: a list or sorted set keeps its order),
// cut by LIMIT, replaced by the values GET patterns name, and either
// replied or stored as a list (STORE). Specs and handlers are one row each
// (specs.go).
package sort
