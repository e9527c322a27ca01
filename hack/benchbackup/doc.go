// Command benchbackup measures the operator's backup and restore of a
// RedisCluster, driven without Kubernetes, on nodes of ours on 127.0.0.1:
// a cluster of -masters masters is loaded with -keys keys of -value-size
// bytes (one in -ttl-every with an expiry), then a steady load of GET/SET
// clients (-rate calls a second) runs for -before, then the cluster is
// backed up once per -compression to an S3-compatible server (gofakes3,
// a separate process, on disk; or a directory with -store dir) while the
// load goes on. Each backup is then restored into fresh clusters of each
// of -restore-masters masters, and the key count and a sample of values
// and expiries are checked. It prints the backup's MB/s (the snapshots'
// RDB bytes over the wall time), the restore's MB/s and keys/s, and the
// load's p99 before and during each backup with their ratio. It is a
// report, not a test.
//
// The load runs in a process of its own (this program re-run with
// -loadgen, which prints every call's end, latency and error when its
// stdin closes), as an application's clients do, so the compression and
// hashing of the backup in this process do not delay it; the nodes, the
// S3 server and both processes still share the machine's cores. With -v
// each node's own account of the snapshot it streamed is printed: keys,
// bytes, and how often and how long it held the server lock, which is
// what a client waits on during a backup.
//
// It owns no backup logic: the sources are backup.ChooseSources', the
// snapshots are streamed by backup.UploadShards and each shard is
// verified and loaded by backup.VerifyObject and backup.LoadShard, one
// shard after the other, as the reconcilers do. The nodes and the S3
// server are stopped by PID at the end.
package main
