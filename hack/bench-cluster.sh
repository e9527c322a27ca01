#!/usr/bin/env bash
# Side-by-side benchmark of a 3-master cluster of shoal-node against a
# 3-master cluster of Debian's redis-server 7 (a report, not a test). All
# six processes run on loopback in temp dirs, on free ports, without
# persistence; only the processes started here are stopped.
#
#   hack/bench-cluster.sh                       # full run (make bench-cluster)
#   N=50000 MOVE_KEYS=20000 hack/bench-cluster.sh   # quicker
#   BENCH=0 ROUNDS=5 hack/bench-cluster.sh      # only the reshard, 5 rounds
#   SHOAL_NODE_BIN=/tmp/old-shoal-node hack/bench-cluster.sh   # a given build
#   SHOAL_ARGS="--event-loops 2" hack/bench-cluster.sh   # extra options of our nodes
#
# 1. redis-benchmark --cluster -t set,get -c CLIENTS -n N against each
#    cluster, Redis first, then ours: rps and the ours/Redis ratio
#    (BENCH=0 skips it).
# 2. Slot migration throughput: MOVE_KEYS keys are loaded into the first
#    master's slots, then `redis-cli --cluster reshard` moves all of that
#    master's slots to the second one; keys/s and the ratio. ROUNDS rounds,
#    each on fresh clusters, alternate which of the two goes first, so the
#    noise of a shared machine falls on both; the summary gives each
#    round's ratio and the ratio of the median keys/s.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2034 # read by hack/lib/common.sh
SHOAL_LOG_PREFIX=bench-cluster
# shellcheck source=hack/lib/common.sh
source hack/lib/common.sh

N="${N:-200000}"
CLIENTS="${CLIENTS:-50}"
MOVE_KEYS="${MOVE_KEYS:-200000}"
PIPELINE="${PIPELINE:-10}" # keys per MIGRATE, redis-cli's default
NODE_TIMEOUT="${NODE_TIMEOUT:-5000}"
ROUNDS="${ROUNDS:-3}"
BENCH="${BENCH:-1}"

for tool in redis-server redis-benchmark redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "bench-cluster: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

work="$(mktemp -d)"
pids=()
cleanup() {
  stop_pids "${pids[@]}"
  rm -rf "$work"
}
trap cleanup EXIT

wait_up() { # port
  wait_for 20 "the server on port $1" redis-cli -p "$1" ping || exit 1
}

if [[ -n "${SHOAL_NODE_BIN:-}" ]]; then
  cp "$SHOAL_NODE_BIN" "$work/shoal-node" # e.g. an older build, for before/after
else
  echo "building shoal-node..."
  go build -o "$work/shoal-node" ./node/cmd/shoal-node
fi

# start_cluster NAME BINARY: three cluster-mode nodes; their client ports
# in the array started (not a subshell: pids must reach cleanup).
start_cluster() {
  local name="$1" bin="$2" i port bus dir extra=()
  [[ "$name" == ours ]] && read -r -a extra <<<"${SHOAL_ARGS:-}"
  started=()
  started_pids=()
  for i in 1 2 3; do
    port="$(free_port)"
    bus="$(free_port)"
    dir="$work/$name$i"
    mkdir -p "$dir"
    (cd "$dir" && exec "$bin" --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-port "$bus" \
      --cluster-node-timeout "$NODE_TIMEOUT" --cluster-config-file nodes.conf --save "" --appendonly no \
      --dir "$dir" "${extra[@]}" >"$dir/log" 2>&1) &
    pids+=($!)
    started_pids+=($!)
    started+=("$port")
  done
  for port in "${started[@]}"; do wait_up "$port"; done
}

# create PORTS...: redis-cli --cluster create, then wait until check is clean.
create() {
  local addrs=() p
  for p in "$@"; do addrs+=("127.0.0.1:$p"); done
  redis-cli --cluster create "${addrs[@]}" --cluster-yes >/dev/null
  for _ in $(seq 1 600); do
    local out
    out="$(redis-cli --cluster check "127.0.0.1:$1" 2>&1 || true)"
    if grep -q "All 16384 slots covered" <<<"$out" && grep -q "All nodes agree" <<<"$out" &&
      ! grep -q "\[ERR\]\|\[WARNING\]" <<<"$out"; then
      local ok=1
      for p in "$@"; do
        redis-cli -p "$p" cluster info | grep -q "cluster_state:ok" || ok=0
      done
      [[ $ok == 1 ]] && return 0
    fi
    sleep 0.1
  done
  echo "bench-cluster: the cluster on $1 did not form" >&2
  exit 1
}

# start_both: fresh Redis and shoal clusters, their ports in rports and
# oports, their PIDs in both_pids.
start_both() {
  start_cluster redis redis-server
  rports=("${started[@]}")
  both_pids=("${started_pids[@]}")
  start_cluster ours "$work/shoal-node"
  oports=("${started[@]}")
  both_pids+=("${started_pids[@]}")
  create "${rports[@]}"
  create "${oports[@]}"
  echo "redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/') cluster on ${rports[*]}, shoal-node cluster on ${oports[*]}"
}

# stop_both stops the clusters of start_both (their data dirs are reused
# by the next start_both, so they are emptied).
stop_both() {
  local pid
  stop_pids "${both_pids[@]}"
  rm -rf "$work"/redis[123] "$work"/ours[123]
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a=="n/a" || b=="n/a" || b==0) print "n/a"; else printf "%.2f", a/b }'; }

# bench PORT TEST -> rps of redis-benchmark --cluster.
bench() {
  redis-benchmark --cluster -h 127.0.0.1 -p "$1" -t "$2" -c "$CLIENTS" -n "$N" -q --csv 2>/dev/null |
    awk -F'","' 'NF>=2 && $1 ~ /'"${2^^}"'/ {gsub(/"/,"",$2); rps=$2} END {if (rps=="") print "n/a"; else print rps}'
}

if [[ "$BENCH" != 0 ]]; then
  start_both
  echo
  echo "redis-benchmark --cluster -c $CLIENTS -n $N, Redis then ours"
  printf '%-8s %12s %12s %7s\n' test redis_rps ours_rps ratio
  for t in set get; do
    r="$(bench "${rports[0]}" "$t")"
    o="$(bench "${oports[0]}" "$t")"
    printf '%-8s %12s %12s %7s\n' "$t" "$r" "$o" "$(ratio "$o" "$r")"
  done
  echo
  stop_both
fi

# Keys of the first master's slots as a RESP stream of SETs.
python3 - "$MOVE_KEYS" "$work/move.resp" <<'EOF'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
tab = []
for i in range(256):
    c = i << 8
    for _ in range(8):
        c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
    tab.append(c & 0xFFFF)
def slot(k):
    c = 0
    for b in k:
        c = ((c << 8) & 0xFFFF) ^ tab[(c >> 8) ^ b]
    return c & 16383
out, i, made = [], 0, 0
while made < n:
    k = b"move:%d" % i
    i += 1
    if slot(k) <= 5460:  # redis-cli --cluster create gives 0-5460 to the first node
        v = b"v%d" % i
        out.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
        made += 1
open(path, "wb").write(b"".join(out))
EOF

# reshard PORTS... -> keys moved, seconds and keys/s to move all of the
# first master's slots (and keys) to the second. The first master, left
# without slots, becomes a replica of the second (replica migration, as in
# Redis) and copies its data: what counts is that the second gained every
# key.
reshard() {
  local from to t0 t1 before after keys
  redis-cli -p "$1" --pipe <"$work/move.resp" >/dev/null
  from="$(redis-cli -p "$1" cluster myid)"
  to="$(redis-cli -p "$2" cluster myid)"
  keys="$(redis-cli -p "$1" dbsize)"
  before="$(redis-cli -p "$2" dbsize)"
  t0="$(date +%s.%N)"
  redis-cli --cluster reshard "127.0.0.1:$1" --cluster-from "$from" --cluster-to "$to" \
    --cluster-slots 5461 --cluster-pipeline "$PIPELINE" --cluster-yes >"$work/reshard.$1.log" 2>&1 ||
    { echo "bench-cluster: reshard failed:" >&2; tail -20 "$work/reshard.$1.log" >&2; exit 1; }
  t1="$(date +%s.%N)"
  after="$(redis-cli -p "$2" dbsize)"
  [[ $((after - before)) == "$keys" ]] ||
    { echo "bench-cluster: the target gained $((after - before)) keys, not $keys" >&2; exit 1; }
  awk -v a="$t0" -v b="$t1" -v k="$keys" 'BEGIN { printf "%d %.2f %.0f\n", k, b-a, k/(b-a) }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR+1)/2]; else printf "%.0f\n", (v[NR/2] + v[NR/2+1]) / 2 }'; }

echo "slot migration: $MOVE_KEYS keys in 5461 slots, redis-cli --cluster reshard (pipeline $PIPELINE), $ROUNDS rounds on fresh clusters"
rk_all=() ok_all=() lines=()
for round in $(seq 1 "$ROUNDS"); do
  start_both
  if ((round % 2)); then
    read -r _ rs rkps < <(reshard "${rports[@]}")
    read -r ok os okps < <(reshard "${oports[@]}")
    order="redis,ours"
  else
    read -r ok os okps < <(reshard "${oports[@]}")
    read -r _ rs rkps < <(reshard "${rports[@]}")
    order="ours,redis"
  fi
  stop_both
  rk_all+=("$rkps")
  ok_all+=("$okps")
  lines+=("$(printf '%-8s %-11s %8s %10s %10s %10s %10s %7s' "$round" "$order" "$ok" "$rs" "$os" "$rkps" "$okps" "$(ratio "$okps" "$rkps")")")
done
echo
printf '%-8s %-11s %8s %10s %10s %10s %10s %7s\n' round order keys redis_s ours_s redis_kps ours_kps ratio
printf '%s\n' "${lines[@]}"
rmed="$(printf '%s\n' "${rk_all[@]}" | median)"
omed="$(printf '%s\n' "${ok_all[@]}" | median)"
printf '%-8s %-11s %8s %10s %10s %10s %10s %7s\n' median "" "" "" "" "$rmed" "$omed" "$(ratio "$omed" "$rmed")"
