#!/usr/bin/env bash
# Side-by-side benchmark of shoal-node against Debian's redis-server 7
# (a report, not a test). Both run on loopback without persistence, in
# temp dirs, on free ports; only the processes started here are stopped.
#
#   hack/bench-node.sh                 # full run (make bench)
#   N=50000 hack/bench-node.sh         # quicker
#   TESTS=set,get KEYS=100000 hack/bench-node.sh
#   REPEAT=3 hack/bench-node.sh        # medians of 3 alternating runs
#   OURS_ARGS="--event-loops 0" hack/bench-node.sh   # extra node arguments
#   OURS_BIN=/tmp/shoal-node hack/bench-node.sh       # a prebuilt node
#   TESTS=evalsha_1,evalsha_10,fcall_1,fcall_10 hack/bench-node.sh   # scripting
#   TESTS=xadd,xreadgroup,pfadd,pfcount,geoadd,geosearch hack/bench-node.sh
#
# Tests are redis-benchmark's own (-t NAME) or one of the command lines of
# custom_command below (scripts and functions loaded, a stream group made,
# points added first, the same on both servers).
#
# For every test and pipeline depth (-P 1 and -P 16) it runs
# redis-benchmark against Redis and then against ours, back to back, and
# prints rps and p99 with the ours/Redis ratios, and each server's CPU time
# per request (user+system, from /proc: on a busy machine the least noisy
# of the three); then it loads KEYS keys with 100-byte values into each
# and compares used_memory_rss.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-500000}"
CLIENTS="${CLIENTS:-50}"
TESTS="${TESTS:-set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset,evalsha_1,evalsha_10,fcall_1,fcall_10,xadd,xreadgroup,pfadd,pfcount,geoadd,geosearch}"
PIPELINES="${PIPELINES:-1 16}"
KEYS="${KEYS:-1000000}"
REPEAT="${REPEAT:-1}"
OURS_ARGS="${OURS_ARGS:-}"
VALUE_SIZE="${VALUE_SIZE:-100}"

for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench-node: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_up() { # port
  for _ in $(seq 1 200); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "bench-node: server on port $1 did not start" >&2
  exit 1
}

if [ -n "${OURS_BIN:-}" ]; then # a prebuilt node (comparing builds)
  cp "$OURS_BIN" "$work/shoal-node"
else
  echo "building shoal-node..."
  go build -o "$work/shoal-node" ./node/cmd/shoal-node
fi

# start_servers: a fresh redis-server and shoal-node, each in its own
# empty dir; sets rport/oport and rpid/opid.
start_servers() {
  rport="$(free_port)"
  rm -rf "$work/redis" "$work/ours"
  mkdir -p "$work/redis" "$work/ours"
  redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$work/redis" \
    --daemonize no --logfile "$work/redis/log" &
  rpid=$!
  oport="$(free_port)"
  # shellcheck disable=SC2086 # OURS_ARGS is a list of arguments
  "$work/shoal-node" --port "$oport" --bind 127.0.0.1 --save "" --appendonly no --dir "$work/ours" $OURS_ARGS \
    >"$work/ours/log" 2>&1 &
  opid=$!
  pids+=("$rpid" "$opid")
  wait_up "$rport"
  wait_up "$oport"
}
start_servers
echo "redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/') on :$rport, shoal-node on :$oport"
echo "redis-benchmark -c $CLIENTS -n $N -q --csv, per test, Redis then ours, median of $REPEAT${OURS_ARGS:+ (ours with $OURS_ARGS)}"
echo

# The scripts of the scripting tests: one call, and ten.
SCRIPT_1="return redis.call('INCR', KEYS[1])"
SCRIPT_10="local v for i = 1, 10 do v = redis.call('INCR', KEYS[1]) end return v"
FUNCTIONS="#!lua name=benchlib
redis.register_function('incr1', function(keys, args) return redis.call('INCR', keys[1]) end)
redis.register_function('incr10', function(keys, args) local v for i = 1, 10 do v = redis.call('INCR', keys[1]) end return v end)"
sha1_of() { printf '%s' "$1" | sha1sum | cut -d' ' -f1; }

# custom_command TEST: the command line of a custom test ("" for
# redis-benchmark's own tests). __rand_int__ is redis-benchmark's -r key.
custom_command() {
  case "$1" in
    evalsha_1) echo "EVALSHA $(sha1_of "$SCRIPT_1") 1 counter:__rand_int__" ;;
    evalsha_10) echo "EVALSHA $(sha1_of "$SCRIPT_10") 1 counter:__rand_int__" ;;
    fcall_1) echo "FCALL incr1 1 counter:__rand_int__" ;;
    fcall_10) echo "FCALL incr10 1 counter:__rand_int__" ;;
    xadd) echo "XADD bench:stream * field1 __rand_int__ field2 value" ;;
    xreadgroup) echo "XREADGROUP GROUP benchgroup consumer COUNT 1 STREAMS bench:stream >" ;;
    pfadd) echo "PFADD bench:hll element:__rand_int__" ;;
    pfcount) echo "PFCOUNT bench:hll" ;;
    geoadd) echo "GEOADD bench:geo -100.5 40.25 member:__rand_int__" ;; # far from GEOSEARCH's circle
    geosearch) echo "GEOSEARCH bench:geo FROMLONLAT 15 37 BYRADIUS 200 km ASC COUNT 10" ;;
    *) echo "" ;;
  esac
}

# prepare PORT: what the custom tests need, made the same way on a server
# (errors are ignored: a server without the command shows n/a).
prepare() {
  local p="$1"
  redis-cli -p "$p" script load "$SCRIPT_1" >/dev/null 2>&1 || true
  redis-cli -p "$p" script load "$SCRIPT_10" >/dev/null 2>&1 || true
  redis-cli -p "$p" function load replace "$FUNCTIONS" >/dev/null 2>&1 || true
  redis-cli -p "$p" xgroup create bench:stream benchgroup '$' mkstream >/dev/null 2>&1 || true
  for i in $(seq 1 200); do echo "GEOADD bench:geo $((i % 40 - 20)).$((i * 7 % 100)) $((i % 30 + 10)).$((i * 13 % 100)) p$i"; done |
    redis-cli -p "$p" >/dev/null 2>&1 || true
}
prepare "$rport"
prepare "$oport"

# supported PORT TEST: whether the server knows the command the test uses.
supported() {
  local cmd="${2%%_*}" line
  [[ "$2" == lrange_* ]] && cmd=lrange
  line="$(custom_command "$2")"
  [ -n "$line" ] && cmd="${line%% *}"
  [[ "$(redis-cli -p "$1" command info "$cmd" | head -1)" != "" ]]
}

# cputicks PID: user+system clock ticks the process has used.
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# bench PORT PID TEST P -> "rps p99 cpu" of the test's last CSV line
# (lrange_100 first runs the LPUSH that fills the list; we keep the LRANGE
# line); cpu is the server's CPU microseconds per request over the whole
# run (for lrange_100 that includes the LPUSHes).
bench() {
  local out c0 c1 tck
  tck="$(getconf CLK_TCK)"
  c0="$(cputicks "$2")"
  local line
  line="$(custom_command "$3")"
  if [ -n "$line" ]; then
    local -a words
    read -ra words <<<"$line" # split into words, no glob (XADD's *)
    out="$(redis-benchmark -h 127.0.0.1 -p "$1" -r 100000 -c "$CLIENTS" -n "$N" -P "$4" -q --csv "${words[@]}" 2>/dev/null || true)"
  else
    out="$(redis-benchmark -h 127.0.0.1 -p "$1" -t "$3" -c "$CLIENTS" -n "$N" -P "$4" -q --csv 2>/dev/null || true)"
  fi
  c1="$(cputicks "$2")"
  echo "$out" | awk -F'","' -v c=$((c1 - c0)) -v tck="$tck" -v n="$N" 'NR>1 && NF>=7 {gsub(/"/,"",$2); gsub(/"/,"",$7); rps=$2; p99=$7}
    END {if (rps=="") print "n/a n/a n/a"; else printf "%s %s %.2f\n", rps, p99, c * 1e6 / tck / n}'
}

# median of its arguments ("n/a" if none is a number).
median() {
  printf '%s\n' "$@" | awk '$1 != "n/a" {v[n++] = $1} END {
    if (n == 0) { print "n/a"; exit }
    for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    print (n % 2) ? v[int(n/2)] : (v[n/2-1] + v[n/2]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a=="n/a" || b=="n/a" || b==0) print "n/a"; else printf "%.2f", a/b }'; }

for P in $PIPELINES; do
  printf '%-12s %4s %12s %12s %7s %9s %9s %7s %9s %9s %7s\n' test P redis_rps ours_rps ratio redis_p99 ours_p99 ratio \
    redis_cpu ours_cpu ratio
  IFS=',' read -ra tests <<<"$TESTS"
  for t in "${tests[@]}"; do
    rr=() rp=() rc=() or=() op=() oc=()
    for _ in $(seq 1 "$REPEAT"); do
      read -r a b c < <(bench "$rport" "$rpid" "$t" "$P"); rr+=("$a"); rp+=("$b"); rc+=("$c")
      if supported "$oport" "$t"; then
        read -r a b c < <(bench "$oport" "$opid" "$t" "$P"); or+=("$a"); op+=("$b"); oc+=("$c")
      else
        or+=(n/a); op+=(n/a); oc+=(n/a)
      fi
    done
    rrps="$(median "${rr[@]}")" rp99="$(median "${rp[@]}")" orps="$(median "${or[@]}")" op99="$(median "${op[@]}")"
    rcpu="$(median "${rc[@]}")" ocpu="$(median "${oc[@]}")"
    printf '%-12s %4s %12s %12s %7s %9s %9s %7s %9s %9s %7s\n' "$t" "$P" "$rrps" "$orps" "$(ratio "$orps" "$rrps")" \
      "$rp99" "$op99" "$(ratio "$op99" "$rp99")" "$rcpu" "$ocpu" "$(ratio "$ocpu" "$rcpu")"
  done
  echo
done

# Memory: KEYS distinct keys with VALUE_SIZE-byte values, loaded with
# redis-cli --pipe from one generated RESP stream.
echo "loading $KEYS keys with ${VALUE_SIZE}-byte values into each..."
awk -v n="$KEYS" -v size="$VALUE_SIZE" 'BEGIN {
  v = ""; for (i = 0; i < size; i++) v = v "x";
  for (i = 0; i < n; i++) {
    k = sprintf("key:%012d", i);
    printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, size, v;
  }
}' >"$work/load.resp"
rss() { redis-cli -p "$1" info memory | awk -F: '/^used_memory_rss:/ {gsub(/\r/,"",$2); print $2}'; }
for port in "$rport" "$oport"; do
  redis-cli -p "$port" flushall >/dev/null
  redis-cli -p "$port" --pipe <"$work/load.resp" >/dev/null
done
sleep 2 # let both settle (jemalloc purge, Go's background scavenger)
rrss="$(rss "$rport")"
orss="$(rss "$oport")"
rkeys="$(redis-cli -p "$rport" dbsize)"
okeys="$(redis-cli -p "$oport" dbsize)"
printf '%-12s %14s %14s %7s\n' memory redis ours ratio
printf '%-12s %14s %14s %7s\n' keys "$rkeys" "$okeys" ""
printf '%-12s %14s %14s %7s\n' used_rss "$rrss" "$orss" "$(ratio "$orss" "$rrss")"

# Streams: STREAM_ENTRIES entries of 2 fields in one stream, by XADD *.
STREAM_ENTRIES="${STREAM_ENTRIES:-1000000}"
# In a fresh pair of servers: the heap the key load freed (jemalloc's
# dirty pages, Go's unscavenged spans) would be counted as the stream's
# (ours read 2.38x after the keys, 1.22x in a fresh process).
for pid in "$rpid" "$opid"; do kill "$pid" && wait "$pid" 2>/dev/null || true; done
start_servers
for port in "$rport" "$oport"; do
  redis-benchmark -h 127.0.0.1 -p "$port" -c 4 -n "$STREAM_ENTRIES" -P 64 -q XADD s '*' f1 __rand_int__ f2 value-of-field-2 >/dev/null 2>&1 || true
done
sleep 2
rrss="$(rss "$rport")"
orss="$(rss "$oport")"
printf '%-12s %14s %14s %7s\n' stream_len "$(redis-cli -p "$rport" xlen s)" "$(redis-cli -p "$oport" xlen s)" ""
printf '%-12s %14s %14s %7s\n' stream_rss "$rrss" "$orss" "$(ratio "$orss" "$rrss")"
