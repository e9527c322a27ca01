// Package number holds Redis's integer grammar (string2ll) for the
// keyspace and its type packages, so that a value stored by one and
// read as a number by another agree on what a number is. It must stay a
// leaf: no imports from the node.
package number
