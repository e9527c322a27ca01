// Package plugin is the kubectl plugin `kubectl shoal`: cobra commands over
// the RedisCluster API and the data nodes.
//
// What it shows and checks is computed by pure functions (statusTable,
// checkCluster, pickSwitchoverTarget) from objects and node views gathered
// at the edges: the API server (RedisCluster, pods, the auth Secret) through
// the kubeconfig flags kubectl plugins share (k8s.io/cli-runtime's
// genericclioptions: --kubeconfig, --context, -n ...), and the nodes through
// a port-forward of each pod (the node image holds only the node binary, no
// redis-cli to exec) with the operator's admin client
// (node/clusteradmin).
//
// It asks the operator for changes only through the annotations the operator
// honours (switchover, paused); it never sends cluster commands that change
// the cluster itself.
package plugin
