#!/usr/bin/env bash
# What serving metrics costs the node (a report, not a test): one
# shoal-node with metrics-port on loopback, redis-benchmark run alternately
# without a scraper and with one that GETs /metrics every SCRAPE_INTERVAL
# seconds (as Prometheus would), REPEAT times; prints the median rps of
# each and the ratio scraped/unscraped, and how long a scrape holds the
# node's lock (shoal_metrics_scrape_lock_seconds). Only the processes
# started here are stopped.
#
#   hack/bench-metrics.sh                      # make bench-metrics
#   N=200000 REPEAT=5 TESTS=set,get hack/bench-metrics.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-300000}"
CLIENTS="${CLIENTS:-50}"
TESTS="${TESTS:-set,get,incr,lpush,hset}"
PIPELINES="${PIPELINES:-1 16}"
REPEAT="${REPEAT:-3}"
SCRAPE_INTERVAL="${SCRAPE_INTERVAL:-1}"

for tool in redis-benchmark redis-cli curl; do
  command -v "$tool" >/dev/null || { echo "bench-metrics: $tool not found" >&2; exit 1; }
done

work="$(mktemp -d)"
pids=()
scraper=""
cleanup() {
  [ -n "$scraper" ] && kill "$scraper" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

echo "building shoal-node..."
go build -o "$work/shoal-node" ./node/cmd/shoal-node
port="$(free_port)" mport="$(free_port)"
"$work/shoal-node" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --metrics-port "$mport" >"$work/log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
echo "shoal-node on :$port, metrics on :$mport; scraper every ${SCRAPE_INTERVAL}s; median of $REPEAT alternating runs"
echo

scrape_loop() {
  while true; do
    curl -s -o /dev/null "http://127.0.0.1:$mport/metrics" || true
    sleep "$SCRAPE_INTERVAL"
  done
}

rps() { # TEST P
  redis-benchmark -h 127.0.0.1 -p "$port" -t "$1" -c "$CLIENTS" -n "$N" -P "$2" -q --csv 2>/dev/null |
    awk -F'","' 'NR>1 && NF>=2 {gsub(/"/,"",$2); r=$2} END {print (r=="" ? "n/a" : r)}'
}

median() {
  printf '%s\n' "$@" | awk '$1 != "n/a" {v[n++] = $1} END {
    if (n == 0) { print "n/a"; exit }
    for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    print (n % 2) ? v[int(n/2)] : (v[n/2-1] + v[n/2]) / 2 }'
}

printf '%-8s %3s %14s %14s %7s\n' test P unscraped_rps scraped_rps ratio
IFS=',' read -ra tests <<<"$TESTS"
for P in $PIPELINES; do
  for t in "${tests[@]}"; do
    off=() on=()
    for _ in $(seq 1 "$REPEAT"); do
      off+=("$(rps "$t" "$P")")
      scrape_loop & scraper=$!
      on+=("$(rps "$t" "$P")")
      kill "$scraper"; wait "$scraper" 2>/dev/null || true; scraper=""
    done
    a="$(median "${off[@]}")" b="$(median "${on[@]}")"
    printf '%-8s %3s %14s %14s %7s\n' "$t" "$P" "$a" "$b" \
      "$(awk -v a="$a" -v b="$b" 'BEGIN { if (a=="n/a" || b=="n/a" || a==0) print "n/a"; else printf "%.3f", b/a }')"
  done
done
echo
body="$(curl -s "http://127.0.0.1:$mport/metrics")"
echo "one scrape: $(printf '%s\n' "$body" | grep -vc '^#') samples, $(printf '%s' "$body" | wc -c) bytes," \
  "lock held $(printf '%s\n' "$body" | awk '/^shoal_metrics_scrape_lock_seconds / {printf "%.0f", $2 * 1e6}') µs"
