#!/usr/bin/env bash
# Side-by-side benchmark of shoal-node's failover and full sync against
# Debian's redis-server 7 (a report, not a test). Every process runs on
# loopback in a temp dir, without persistence, and only the processes
# started here are stopped (by PID, at exit).
#
#   hack/bench-failover.sh                      # full run (make bench-failover)
#   REPEAT=3 hack/bench-failover.sh             # 3 alternating rounds of each
#   SYNC_KEYS=200000 NODE_TIMEOUT=2000 hack/bench-failover.sh   # quicker
#   MEASURE=failover REPEAT=5 hack/bench-failover.sh   # one part only
#   KEEP_WORK=1 hack/bench-failover.sh          # keep the servers' logs
#   OURS_BIN=/tmp/shoal-node hack/bench-failover.sh   # another build of ours
#
# 1. Failover: a cluster of 3 masters + 3 replicas of each (redis-cli
#    --cluster create --cluster-replicas 1, the same cluster-node-timeout).
#    The master that serves a key is killed with SIGKILL and a probe
#    retries SET on that key against every other node until one accepts
#    it: the time from the kill to that first successful write, on a
#    monotonic clock. The killed node is restarted and the cluster polled
#    back to health (the old master rejoins as a replica and syncs) before
#    the next round, which kills the key's new master.
# 2. Full sync: a standalone master with SYNC_KEYS keys of VALUE_SIZE bytes
#    (DEBUG POPULATE) and a new empty replica: the time from REPLICAOF to
#    master_link_status:up with every key loaded. A fresh replica each
#    round. Redis runs with its fastest settings for this: diskless sync
#    without the default 5 s repl-diskless-sync-delay (its replica loads
#    from disk, the default repl-diskless-load disabled).
#
# Rounds alternate Redis and ours, so the noise of a shared machine falls
# on both; the summary gives min / median / max and ours/Redis ratios of
# the medians (lower is better for both measures).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2034 # read by hack/lib/common.sh
SHOAL_LOG_PREFIX=bench-failover
# shellcheck source=hack/lib/common.sh
source hack/lib/common.sh

REPEAT="${REPEAT:-2}"
NODE_TIMEOUT="${NODE_TIMEOUT:-5000}"
SYNC_KEYS="${SYNC_KEYS:-1000000}"
VALUE_SIZE="${VALUE_SIZE:-100}"
KEY="${KEY:-failover-probe}"
MEASURE="${MEASURE:-failover,fullsync}"

for tool in redis-server redis-cli python3; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install redis-server redis-tools python3)"
done

work="$(mktemp -d)"
pids=()
declare -A pid_of dir_of # port -> PID and directory of the server started on it
cleanup() {
  stop_pids "${pids[@]}"
  if [[ -n "${KEEP_WORK:-}" ]]; then log "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

if [[ -n "${OURS_BIN:-}" ]]; then # another build of shoal-node to compare
  cp "$OURS_BIN" "$work/shoal-node"
else
  log "building shoal-node..."
  go build -o "$work/shoal-node" ./node/cmd/shoal-node
fi

# The probe: precise timing on a monotonic clock, over plain RESP.
cat >"$work/probe.py" <<'EOF'
import os, signal, socket, sys, time

def connect(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=1.0)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s, s.makefile("rb")

def call(conn, *args):
    s, f = conn
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    line = f.readline()
    if not line:
        raise OSError("connection closed")
    if line[:1] == b"$":
        n = int(line[1:])
        return b"" if n < 0 else f.read(n + 2)[:-2]
    return line.rstrip(b"\r\n")

def failover(pid, key, ports):
    """Kill pid, then SET key on every port until one accepts it."""
    conns = {}
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    while time.monotonic() - t0 < 300:
        for p in ports:
            try:
                if p not in conns:
                    conns[p] = connect(p)
                if call(conns[p], "SET", key, "after-failover") == b"+OK":
                    print("%.3f" % (time.monotonic() - t0))
                    return 0
            except OSError:
                conns.pop(p, None)
        time.sleep(0.005)
    return 1

def fullsync(replica, master, keys):
    """REPLICAOF, then poll until the link is up with every key loaded."""
    c = connect(replica)
    t0 = time.monotonic()
    if call(c, "REPLICAOF", "127.0.0.1", master) != b"+OK":
        return 1
    while time.monotonic() - t0 < 600:
        try:
            info = call(c, "INFO", "replication")
            if b"master_link_status:up" in info and call(c, "DBSIZE") == b":%d" % keys:
                print("%.3f" % (time.monotonic() - t0))
                return 0
        except OSError:  # a loading replica may drop or time out a poll
            c = connect(replica)
        time.sleep(0.01)
    return 1

mode = sys.argv[1]
if mode == "failover":
    sys.exit(failover(int(sys.argv[2]), sys.argv[3], sys.argv[4:]))
if mode == "fullsync":
    sys.exit(fullsync(sys.argv[2], sys.argv[3], int(sys.argv[4])))
sys.exit(2)
EOF
probe() { python3 "$work/probe.py" "$@"; }

binary() { [[ $1 == redis ]] && echo redis-server || echo "$work/shoal-node"; }

# start_node KIND DIR PORT [ARGS...]: start a server in DIR (made if
# missing) on PORT and wait until it answers; its PID goes to pid_of.
start_node() {
  local kind="$1" dir="$2" port="$3"
  shift 3
  local extra=(--enable-debug-command local)
  [[ $kind == redis ]] && extra+=(--repl-diskless-sync yes --repl-diskless-sync-delay 0)
  mkdir -p "$dir"
  (cd "$dir" && exec "$(binary "$kind")" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$dir" "${extra[@]}" "$@" >>"$dir/log" 2>&1) &
  pids+=($!)
  pid_of[$port]=$!
  dir_of[$port]="$dir"
  wait_for 20 "$kind on port $port" redis-cli -p "$port" ping || die "$kind on port $port did not start (log: $(tail -3 "$dir/log"))"
}

cluster_args() { # BUS_PORT
  echo --cluster-enabled yes --cluster-port "$1" --cluster-node-timeout "$NODE_TIMEOUT" --cluster-config-file nodes.conf
}

declare -A bus_of ports_of
# start_cluster KIND: six cluster nodes, then redis-cli --cluster create
# with one replica per master.
start_cluster() {
  local kind="$1" i port bus ports=() addrs=()
  for i in 1 2 3 4 5 6; do
    port="$(free_port)" bus="$(free_port)"
    bus_of[$port]="$bus"
    # shellcheck disable=SC2046
    start_node "$kind" "$work/$kind-c$i" "$port" $(cluster_args "$bus")
    ports+=("$port")
    addrs+=("127.0.0.1:$port")
  done
  ports_of[$kind]="${ports[*]}"
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$work/$kind-create.log" 2>&1 ||
    die "redis-cli --cluster create failed for $kind: $(tail -5 "$work/$kind-create.log")"
}

# cluster_healthy KIND: every node up and in state ok, redis-cli --cluster
# check clean, no node flagged fail, every replica's link up.
cluster_healthy() {
  local kind="$1" p out
  read -ra ps <<<"${ports_of[$kind]}"
  out="$(redis-cli --cluster check "127.0.0.1:${ps[0]}" 2>&1)" || return 1
  grep -q "All 16384 slots covered" <<<"$out" && grep -q "All nodes agree" <<<"$out" || return 1
  ! grep -q "\[ERR\]\|\[WARNING\]" <<<"$out" || return 1
  for p in "${ps[@]}"; do
    redis-cli -p "$p" cluster info | grep -q "cluster_state:ok" || return 1
    ! redis-cli -p "$p" cluster nodes | grep -q "fail" || return 1
    out="$(redis-cli -p "$p" info replication)"
    if grep -q "role:slave" <<<"$out"; then grep -q "master_link_status:up" <<<"$out" || return 1; fi
  done
}

# owner KIND: the port of the master that serves KEY.
owner() {
  local p
  for p in ${ports_of[$1]}; do
    [[ "$(redis-cli -p "$p" set "$KEY" before 2>/dev/null)" == OK ]] && { echo "$p"; return 0; }
  done
  return 1
}

# failover_round KIND: result = seconds from kill -9 of KEY's master to
# the first accepted write of KEY; the killed node is then restarted and
# the cluster polled back to health. (Not run in a subshell: the PIDs of
# the servers it starts must reach cleanup.)
failover_round() {
  local kind="$1" victim p others=() secs
  wait_for 120 "$kind cluster healthy" cluster_healthy "$kind" || die "the $kind cluster is not healthy"
  victim="$(owner "$kind")" || die "no $kind master serves $KEY"
  for p in ${ports_of[$kind]}; do [[ $p != "$victim" ]] && others+=("$p"); done
  secs="$(probe failover "${pid_of[$victim]}" "$KEY" "${others[@]}")" || die "$kind: no write to $KEY succeeded after the kill"
  wait "${pid_of[$victim]}" 2>/dev/null || true
  # shellcheck disable=SC2046
  start_node "$kind" "${dir_of[$victim]}" "$victim" $(cluster_args "${bus_of[$victim]}")
  wait_for 180 "$kind cluster healthy after the restart" cluster_healthy "$kind" || die "the $kind cluster did not heal after the restart"
  result="$secs"
}

# sync_round KIND MASTER_PORT: result = seconds of a full sync to a new
# replica.
sync_round() {
  local kind="$1" master="$2" port secs dir
  port="$(free_port)"
  dir="$work/$kind-replica-$port"
  start_node "$kind" "$dir" "$port"
  secs="$(probe fullsync "$port" "$master" "$SYNC_KEYS")" || die "$kind: the full sync did not finish"
  kill "${pid_of[$port]}"
  wait "${pid_of[$port]}" 2>/dev/null || true
  rm -rf "$dir"
  result="$secs"
}

# stats VALUES... -> "min median max"
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f %.3f %.3f\n", v[1], m, v[NR]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b==0) print "n/a"; else printf "%.2f", a/b }'; }

echo "redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/') vs shoal-node $(git rev-parse --short HEAD), REPEAT=$REPEAT, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

result=""
rf=() of=() rs=() os=()

# ---- 1. failover ----
if [[ $MEASURE == *failover* ]]; then
log "starting two 6-node clusters (cluster-node-timeout $NODE_TIMEOUT ms)..."
for kind in redis ours; do
  start_cluster "$kind"
done
for round in $(seq 1 "$REPEAT"); do
  log "failover round $round: redis"
  failover_round redis
  rf+=("$result")
  log "failover round $round: ours"
  failover_round ours
  of+=("$result")
  log "failover round $round: redis ${rf[-1]}s, ours ${of[-1]}s"
done
for kind in redis ours; do
  for p in ${ports_of[$kind]}; do kill "${pid_of[$p]}" 2>/dev/null || true; done
  for p in ${ports_of[$kind]}; do wait "${pid_of[$p]}" 2>/dev/null || true; done
done
fi

# ---- 2. full sync ----
if [[ $MEASURE == *fullsync* ]]; then
log "loading $SYNC_KEYS keys of $VALUE_SIZE bytes into a master of each..."
declare -A smaster
for kind in redis ours; do
  smaster[$kind]="$(free_port)"
  start_node "$kind" "$work/$kind-syncmaster" "${smaster[$kind]}"
  redis-cli -p "${smaster[$kind]}" debug populate "$SYNC_KEYS" key "$VALUE_SIZE" >/dev/null
  n="$(redis-cli -p "${smaster[$kind]}" dbsize)"
  [[ "$n" == "$SYNC_KEYS" ]] || die "$kind master holds $n keys after DEBUG POPULATE, not $SYNC_KEYS"
done
for round in $(seq 1 "$REPEAT"); do
  log "full sync round $round: redis"
  sync_round redis "${smaster[redis]}"
  rs+=("$result")
  log "full sync round $round: ours"
  sync_round ours "${smaster[ours]}"
  os+=("$result")
  log "full sync round $round: redis ${rs[-1]}s, ours ${os[-1]}s"
done
fi

echo
printf '%-32s %-22s %-22s %s\n' "seconds (min median max)" redis ours "ratio ours/redis (median)"
if ((${#rf[@]})); then
  read -r a b c < <(stats "${rf[@]}")
  read -r d e f < <(stats "${of[@]}")
  printf '%-32s %-22s %-22s %s\n' "failover: kill -9 to first write" "$a $b $c" "$d $e $f" "$(ratio "$e" "$b")"
fi
if ((${#rs[@]})); then
  read -r a b c < <(stats "${rs[@]}")
  read -r d e f < <(stats "${os[@]}")
  printf '%-32s %-22s %-22s %s\n' "full sync of $SYNC_KEYS keys" "$a $b $c" "$d $e $f" "$(ratio "$e" "$b")"
fi
echo "rounds: failover redis ${rf[*]} / ours ${of[*]}; full sync redis ${rs[*]} / ours ${os[*]}"
