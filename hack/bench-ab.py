#!/usr/bin/env python3
"""A/B benchmark (a report, not a test): Debian's redis-server and one or
more prebuilt shoal-node binaries side by side, the runs interleaved round
by round (each round rotates the order), so that a machine whose speed
drifts (a noisy VM: Redis's own p99 can move 2x between runs) affects every
server alike. Prints, per test, the median throughput and p99 of each and
their ratios to Redis's: of the medians, and the median of the per-round
(paired) p99 ratios, the steadier of the two.

    go build -o /tmp/before ./node/cmd/shoal-node   # at the older commit
    go build -o /tmp/after ./node/cmd/shoal-node
    hack/bench-ab.py 9 /tmp/before /tmp/after
    P=1 N=100000 TESTS=get,set,incr hack/bench-ab.py 7 /tmp/after

Environment: TESTS (comma-separated names below; default the four
scripting tests), P (pipeline depth, default 16), N (requests per run,
default 200000), CLIENTS (default 50). Servers listen on 127.0.0.1 on free
ports, without persistence, in a temporary directory, and are stopped by
PID at the end.
"""
import hashlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SCRIPT_1 = "return redis.call('INCR', KEYS[1])"
SCRIPT_10 = "local v for i = 1, 10 do v = redis.call('INCR', KEYS[1]) end return v"
LIBRARY = ("#!lua name=benchlib\n"
           "redis.register_function('incr1', function(keys, args) return redis.call('INCR', keys[1]) end)\n"
           "redis.register_function('incr10', function(keys, args) local v for i = 1, 10 do "
           "v = redis.call('INCR', keys[1]) end return v end)")


def sha1(s):
    return hashlib.sha1(s.encode()).hexdigest()


COMMANDS = {
    "evalsha_1": ["EVALSHA", sha1(SCRIPT_1), "1", "counter:__rand_int__"],
    "evalsha_10": ["EVALSHA", sha1(SCRIPT_10), "1", "counter:__rand_int__"],
    "fcall_1": ["FCALL", "incr1", "1", "counter:__rand_int__"],
    "fcall_10": ["FCALL", "incr10", "1", "counter:__rand_int__"],
    "get": ["GET", "key:__rand_int__"],
    "set": ["SET", "key:__rand_int__", "x" * 100],
    "incr": ["INCR", "counter:__rand_int__"],
    "lpush": ["LPUSH", "list", "x" * 100],
    "sadd": ["SADD", "set:__rand_int__", "member"],
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True).stdout.strip()


def wait_up(port):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if cli(port, "ping") == "PONG":
            return
        time.sleep(0.05)
    sys.exit(f"bench-ab: the server on port {port} did not start")


def run(port, test, pipeline, n, clients):
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-r", "100000", "-c", str(clients),
         "-n", str(n), "-P", str(pipeline), "-q", "--csv", *COMMANDS[test]],
        capture_output=True, text=True).stdout.strip().splitlines()
    # "test","rps","avg","min","p50","p95","p99","max"
    fields = [f.strip('"') for f in out[-1].split(",")]
    return float(fields[1]), float(fields[6])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rounds, binaries = int(sys.argv[1]), sys.argv[2:]
    tests = os.environ.get("TESTS", "evalsha_1,evalsha_10,fcall_1,fcall_10").split(",")
    for t in tests:
        if t not in COMMANDS:
            sys.exit(f"bench-ab: unknown test {t} (known: {', '.join(COMMANDS)})")
    pipeline = os.environ.get("P", "16")
    n = os.environ.get("N", "200000")
    clients = os.environ.get("CLIENTS", "50")
    procs, servers = [], []
    with tempfile.TemporaryDirectory() as work:
        try:
            for i, argv in enumerate([["redis-server"]] + [[b] for b in binaries]):
                name = "redis" if i == 0 else f"{i}:{os.path.basename(argv[0])}"
                port, d = free_port(), os.path.join(work, str(i))
                os.mkdir(d)
                procs.append(subprocess.Popen(
                    argv + ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                servers.append((name, port))
            for _, port in servers:
                wait_up(port)
                cli(port, "script", "load", SCRIPT_1)
                cli(port, "script", "load", SCRIPT_10)
                cli(port, "function", "load", "replace", LIBRARY)
            results = {}
            for r in range(rounds):
                for t in tests:
                    k = r % len(servers)
                    for name, port in servers[k:] + servers[:k]:
                        results.setdefault((t, name), []).append(run(port, t, pipeline, n, clients))
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait()
    print(f"-P {pipeline}, {clients} clients, {n} requests a run, {rounds} rounds; ratios to Redis")
    for t in tests:
        base = results[(t, "redis")]
        rps, p99 = statistics.median(x[0] for x in base), statistics.median(x[1] for x in base)
        line = f"{t:11s} redis {rps:9.0f} rps p99 {p99:6.3f}"
        for name, _ in servers[1:]:
            v = results[(t, name)]
            orps, op99 = statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)
            paired = statistics.median(v[i][1] / base[i][1] for i in range(len(v)))
            line += f" | {name} rps x{orps / rps:.2f} p99 x{op99 / p99:.2f} paired x{paired:.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
