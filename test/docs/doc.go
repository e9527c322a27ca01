// Package docs checks the commands the project prints or documents for its
// users (the README, the Helm chart's NOTES.txt, the text hack/run-local.sh
// prints) against what they would do when typed as printed: every resource
// name a `kubectl` line names must resolve, the way kubectl resolves it, to
// the resource the project means (our CRDs, or the few built-in kinds the
// operator manages), never to another built-in kind (a bare `rc` is
// ReplicationControllers).
//
// The tests are pure: they read files of the repository and the CRDs in
// config/crd/bases, and need no cluster. Built-in resource names come from a
// table taken from `kubectl api-resources` of the Kubernetes version the
// project pins (builtin.go).
package docs
