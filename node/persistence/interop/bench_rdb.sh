#!/usr/bin/env bash
# bench_rdb.sh: time writing (SAVE) and loading (start-up) a snapshot of N
# keys (DEBUG POPULATE N key 32) for the node of an earlier build that
# wrote its own snapshot format ("SHOALSNP"), the node of this tree
# (RDB, rdbcompression yes and no), and redis-server, all in one run on
# the same machine.
#
#   bench_rdb.sh [OLD_NODE_BINARY NEW_NODE_BINARY] [N]
#
# Without binaries it builds OLD from commit $OLD_COMMIT (the last one
# before the RDB format) and NEW from the working tree. redis-server loads
# the file NEW wrote, and SAVEs the same data itself. Each figure is the
# best of $ITER runs (default 3): wall time per key, and the process's
# CPU time per key (utime+stime from /proc: on a shared machine the CPU
# time is the steadier figure). Free 127.0.0.1 ports, files under a fresh
# temp directory; the servers it starts are stopped by PID on exit.
#
# BEFORE_COMMIT=<commit> adds the RDB rows of the node built from that
# commit (rdbcompression yes and no), for a change's figures before and
# after in one run; BEFORE_NODE=<binary> does the same with a binary
# already built.
set -euo pipefail
OLD_COMMIT=${OLD_COMMIT:-560329d212976d4eb28df2d059e8dd4330368e48}
BEFORE_COMMIT=${BEFORE_COMMIT:-}
BEFORE_NODE=${BEFORE_NODE:-}
ITER=${ITER:-3}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

if [ $# -ge 2 ]; then
	old=$1 new=$2 n=${3:-1000000}
else
	n=${1:-1000000}
	root=$(git rev-parse --show-toplevel)
	mkdir -p "$work/oldsrc"
	git -C "$root" archive "$OLD_COMMIT" | tar -x -C "$work/oldsrc"
	(cd "$work/oldsrc" && go build -o "$work/shoal-node-old" ./node/cmd/shoal-node)
	(cd "$root" && go build -o "$work/shoal-node-new" ./node/cmd/shoal-node)
	old=$work/shoal-node-old new=$work/shoal-node-new
fi
before=$BEFORE_NODE
if [ -z "$before" ] && [ -n "$BEFORE_COMMIT" ]; then
	root=$(git rev-parse --show-toplevel)
	mkdir -p "$work/beforesrc"
	git -C "$root" archive "$BEFORE_COMMIT" | tar -x -C "$work/beforesrc"
	(cd "$work/beforesrc" && go build -o "$work/shoal-node-before" ./node/cmd/shoal-node)
	before=$work/shoal-node-before
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_ready() { # port
	for _ in $(seq 1200); do
		if redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; then return 0; fi
		sleep 0.1
	done
	echo "port $1 not ready" >&2; return 1
}

stop() { # port pid
	redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true
	wait "$2" 2>/dev/null || true
}

ms() { date +%s%3N; }

# cpu_ms pid: the process's user+system CPU time so far, in ms.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"; }

# load_ms log: the "DB loaded from disk: X seconds" figure, in ms.
load_ms() { grep -o 'DB loaded from disk: [0-9.]*' "$1" | tail -1 | awk '{print int($5 * 1000)}'; }

min() { echo $(( $1 < $2 ? $1 : $2 )); }

# us_per_key ms: microseconds per key.
us_per_key() { awk -v ms="$1" -v n="$n" 'BEGIN {printf "%.2f", ms * 1000 / n}'; }

report() { # name save_ms save_cpu load_ms load_cpu file
	printf '%-28s write %6s us/key (cpu %6s)   load %6s us/key (cpu %6s)   %s\n' "$1" \
		"$(us_per_key "$2")" "$(us_per_key "$3")" "$(us_per_key "$4")" "$(us_per_key "$5")" "$6"
}

bench_node() { # name binary port args...
	local name=$1 bin=$2 port=$3
	shift 3
	local dir="$work/$name" save=999999999 scpu=999999999 load=999999999 lcpu=999999999
	mkdir -p "$dir"
	for _ in $(seq "$ITER"); do
		rm -f "$dir"/dump.rdb
		"$bin" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --enable-debug-command yes "$@" >"$dir/fill.log" 2>&1 &
		local pid=$!
		pids+=("$pid")
		wait_ready "$port"
		redis-cli -p "$port" debug populate "$n" key 32 >/dev/null
		local c0 t0 t1 c1
		c0=$(cpu_ms "$pid"); t0=$(ms)
		redis-cli -p "$port" save >/dev/null
		t1=$(ms); c1=$(cpu_ms "$pid")
		save=$(min "$save" $((t1 - t0))); scpu=$(min "$scpu" $((c1 - c0)))
		stop "$port" "$pid"
		"$bin" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" "$@" >"$dir/load.log" 2>&1 &
		pid=$!
		pids+=("$pid")
		wait_ready "$port"
		local keys; keys=$(redis-cli -p "$port" dbsize)
		[ "$keys" = "$n" ] || { echo "$name loaded $keys keys" >&2; exit 1; }
		load=$(min "$load" "$(load_ms "$dir/load.log")"); lcpu=$(min "$lcpu" "$(cpu_ms "$pid")")
		stop "$port" "$pid"
	done
	report "$name" "$save" "$scpu" "$load" "$lcpu" "file $(stat -c %s "$dir/dump.rdb") bytes ($(head -c 9 "$dir/dump.rdb" | tr -dc 'A-Z0-9'))"
}

echo "$n keys (DEBUG POPULATE $n key 32), best of $ITER; load cpu includes the process's start"
bench_node old-format "$old" "$(free_port)"
if [ -n "$before" ]; then
	bench_node "rdb-before" "$before" "$(free_port)"
	bench_node "rdb-before-compression-no" "$before" "$(free_port)" --rdbcompression no
fi
bench_node rdb "$new" "$(free_port)"
bench_node rdb-rdbcompression-no "$new" "$(free_port)" --rdbcompression no

# redis-server loading the file NEW wrote, and its own SAVE of the data.
rdir="$work/redis"; mkdir -p "$rdir"
rport=$(free_port)
load=999999999 lcpu=999999999 save=999999999 scpu=999999999
for _ in $(seq "$ITER"); do
	cp "$work/rdb/dump.rdb" "$rdir/dump.rdb"
	redis-server --port "$rport" --bind 127.0.0.1 --dir "$rdir" --save "" >"$rdir/load.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_ready "$rport"
	keys=$(redis-cli -p "$rport" dbsize)
	[ "$keys" = "$n" ] || { echo "redis-server loaded $keys keys" >&2; exit 1; }
	load=$(min "$load" "$(load_ms "$rdir/load.log")"); lcpu=$(min "$lcpu" "$(cpu_ms "$pid")")
	c0=$(cpu_ms "$pid"); t0=$(ms)
	redis-cli -p "$rport" save >/dev/null
	t1=$(ms); c1=$(cpu_ms "$pid")
	save=$(min "$save" $((t1 - t0))); scpu=$(min "$scpu" $((c1 - c0)))
	stop "$rport" "$pid"
done
report "redis-server (rdb's file)" "$save" "$scpu" "$load" "$lcpu" "its own SAVE: file $(stat -c %s "$rdir/dump.rdb") bytes"
