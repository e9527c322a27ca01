#!/usr/bin/env bash
# Benchmark (a report, not a test) of the operator's slot migration engine
# against redis-cli's, on the same data and the same node binary (ours):
# KEYS keys of VALUE_SIZE bytes in a cluster of 3 masters plus 2 empty ones,
# moved to 5 masters first by the engine the operator uses
# (controllers/topology + controllers/nodeadmin, driven without Kubernetes
# by hack/benchreshard), then, on a fresh cluster, by
# `redis-cli --cluster rebalance --cluster-use-empty-masters`. A load of
# GET/SET clients runs during each move. It prints the time of each move
# and the ratio, the load's client-visible errors, its p99 latency before
# and during the move, the key count afterwards and whether
# `redis-cli --cluster check` is clean.
#
#   hack/bench-reshard.sh                          # 1M keys (make bench-reshard)
#   KEYS=200000 hack/bench-reshard.sh -v           # quicker, with progress
#   hack/bench-reshard.sh -slots-in-flight 16 -keys-per-batch 2000
#
# Extra arguments go to hack/benchreshard (see -h). Nodes run on 127.0.0.1
# in temp dirs without persistence and are stopped by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2034 # read by hack/lib/common.sh
SHOAL_LOG_PREFIX=bench-reshard
# shellcheck source=hack/lib/common.sh
source hack/lib/common.sh

KEYS="${KEYS:-1000000}"
VALUE_SIZE="${VALUE_SIZE:-100}"

command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install redis-tools)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log "building shoal-node and the benchmark"
go build -o "$work/shoal-node" ./node/cmd/shoal-node
go build -o "$work/benchreshard" ./hack/benchreshard
"$work/benchreshard" -bin "$work/shoal-node" -keys "$KEYS" -value "$VALUE_SIZE" "$@"
