#!/usr/bin/env bash
# Benchmark (a report, not a test) of the operator's backup and restore,
# driven without Kubernetes by hack/benchbackup with the operator's own
# code (controllers/backup: ChooseSources, UploadShards, VerifyObject,
# LoadShard): a cluster of 3 masters of our node holding KEYS keys of
# VALUE_SIZE bytes (1 in 10 with an expiry) is backed up once per
# compression to an S3-compatible server on 127.0.0.1 (gofakes3, `make
# s3server`) while a steady GET/SET load runs, then each backup is
# restored into fresh clusters of 3 and 5 masters and checked (key count,
# a sample of values and expiries). It prints backup MB/s, restore MB/s
# and keys/s, and the load's p99 before and during each backup.
#
#   hack/bench-backup.sh                                 # 1M keys (make bench-backup)
#   KEYS=200000 hack/bench-backup.sh -v                  # quicker, with progress
#   hack/bench-backup.sh -compression None,Gzip,Zstd -rate 5000 -store dir
#
# Extra arguments go to hack/benchbackup (see -h). Nodes and the S3 server
# run on 127.0.0.1 in temp dirs and are stopped by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2034 # read by hack/lib/common.sh
SHOAL_LOG_PREFIX=bench-backup
# shellcheck source=hack/lib/common.sh
source hack/lib/common.sh

KEYS="${KEYS:-1000000}"
VALUE_SIZE="${VALUE_SIZE:-100}"
S3SERVER="${S3SERVER:-bin/gofakes3-v1.2.0}"

[ -x "$S3SERVER" ] || die "S3 server $S3SERVER not found (make s3server)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log "building shoal-node and the benchmark"
go build -o "$work/shoal-node" ./node/cmd/shoal-node
go build -o "$work/benchbackup" ./hack/benchbackup
"$work/benchbackup" -bin "$work/shoal-node" -s3server "$S3SERVER" -keys "$KEYS" -value-size "$VALUE_SIZE" "$@"
