#!/usr/bin/env bash
# bench_rdb.sh: time writing (SAVE) and loading (start-up) a snapshot of N
# keys (DEBUG POPULATE N key 32) for two node builds and redis-server,
# all in one run on the same machine.
#
#   bench_rdb.sh OLD_NODE_BINARY NEW_NODE_BINARY [N]
#
# OLD writes its own format (the "shoal snapshot"), NEW writes RDB; the
# file NEW wrote is then loaded by redis-server too. Each figure is the
# best of 3. Free 127.0.0.1 ports, files under a fresh temp directory;
# the servers it starts are stopped by PID on exit.
set -euo pipefail
old=$1 new=$2 n=${3:-1000000}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_ready() { # port
	for _ in $(seq 600); do
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

# load_secs log: the "DB loaded from disk: X seconds" figure.
load_secs() { grep -o 'DB loaded from disk: [0-9.]*' "$1" | tail -1 | awk '{print $5}'; }

bench_node() { # name binary port
	local name=$1 bin=$2 port=$3 dir="$work/$1" best_save=999999 best_load=999
	mkdir -p "$dir"
	for i in 1 2 3; do
		rm -f "$dir"/dump.rdb
		"$bin" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --enable-debug-command yes >"$dir/fill.log" 2>&1 &
		local pid=$!
		pids+=("$pid")
		wait_ready "$port"
		redis-cli -p "$port" debug populate "$n" key 32 >/dev/null
		local t0; t0=$(ms)
		redis-cli -p "$port" save >/dev/null
		local t1; t1=$(ms)
		(( t1 - t0 < best_save )) && best_save=$((t1 - t0))
		stop "$port" "$pid"
		"$bin" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --enable-debug-command yes >"$dir/load.log" 2>&1 &
		pid=$!
		pids+=("$pid")
		wait_ready "$port"
		local keys; keys=$(redis-cli -p "$port" dbsize)
		[ "$keys" = "$n" ] || { echo "$name loaded $keys keys" >&2; exit 1; }
		local l; l=$(load_secs "$dir/load.log")
		best_load=$(echo "$l $best_load" | awk '{print ($1 < $2) ? $1 : $2}')
		stop "$port" "$pid"
	done
	echo "$name: SAVE ${best_save} ms, load ${best_load} s, file $(stat -c %s "$dir/dump.rdb") bytes ($(head -c 8 "$dir/dump.rdb" | tr -dc 'A-Z0-9'))"
}

bench_node old "$old" "$(free_port)"
bench_node new "$new" "$(free_port)"

# redis-server loading the file NEW wrote, and its own SAVE of the same data.
rdir="$work/redis"; mkdir -p "$rdir"
rport=$(free_port)
best_load=999 best_save=999999
for i in 1 2 3; do
	cp "$work/new/dump.rdb" "$rdir/dump.rdb"
	redis-server --port $rport --bind 127.0.0.1 --dir "$rdir" --save "" >"$rdir/load.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_ready $rport
	keys=$(redis-cli -p $rport dbsize)
	[ "$keys" = "$n" ] || { echo "redis-server loaded $keys keys" >&2; exit 1; }
	l=$(load_secs "$rdir/load.log")
	best_load=$(echo "$l $best_load" | awk '{print ($1 < $2) ? $1 : $2}')
	t0=$(ms); redis-cli -p $rport save >/dev/null; t1=$(ms)
	(( t1 - t0 < best_save )) && best_save=$((t1 - t0))
	stop $rport "$pid"
done
echo "redis-server: SAVE ${best_save} ms, load of new's file ${best_load} s"
