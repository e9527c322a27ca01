// Command fuzzdiff is the differential command fuzzer: it sends the same
// random command lines to a fresh Redis 7.0.15 (the specification) and to a
// fresh shoal-node, and reports where the node crashes, hangs or answers
// differently.
//
//	go run ./test/fuzzdiff -seed 42 -n 5000       # one seed, 5000 commands
//	go run ./test/fuzzdiff -ci -duration 60s      # seeds 2,3,4 (5000 commands each), then a fresh seed until 60 s
//	go run ./test/fuzzdiff -seed 42 -n 300 -print # the lines only, as a redis-cli script
//	go run ./test/fuzzdiff -src /work/main -seeds 1,2 -v
//	make fuzz-diff                                # what CI runs (FUZZDIFF_TIME)
//
// How it works:
//
//   - It starts a redis-server, reads COMMAND INFO (arity, flags, tips),
//     COMMAND DOCS (the argument tree of every command and subcommand) and
//     CONFIG GET * (parameter names), and stops it (package shape).
//   - For each seed it starts a fresh redis-server and a fresh shoal-node on
//     free 127.0.0.1 ports, each in its own temp dir under an address-space
//     limit (prlimit), runs the same setup on both (a key of every type,
//     small and large, a key with a TTL, 40-'a' names for glob patterns)
//     and then the generated lines (package gen): argument values biased to
//     edge values (0, -1, 2^31-1, 2^63-1, -2^63, 2^64, inf, nan, 1e308,
//     empty, 1 MB, binary, NUL bytes, many-star globs), keys from a small
//     pool, and one line in ten damaged (an argument dropped, repeated,
//     swapped or inserted). Commands that would stop or take over the server
//     or the connection are never sent (gen.Skip); blocking commands get
//     timeouts of at most 50 ms; MIGRATE only targets 127.0.0.1:1. One list
//     or sorted-set blocking command in four runs on a second connection
//     (200 ms) while the next line pushes to its key. RESTORE gets DUMP
//     payloads of the setup keys from Redis and from the node, whole or
//     damaged with the CRC recomputed, so the node's decoder sees them.
//   - Each reply pair is compared (package compare) after normalising what
//     Redis leaves open, from its command tips: unordered replies are
//     sorted, random ones compared by type and length, TTLs within a
//     second, SCAN by elements only when both cursors are 0, EXEC element
//     by element.
//
// It reports:
//
//   - CRASH: the node's process died. The report has the panic's first
//     lines and the shortest tail of the commands since the last restart
//     that crashes a fresh node (replayed to find it), as a redis-cli
//     script.
//   - HANG: the node did not answer within ten times -hang plus four
//     times Redis's time while Redis answered; whether PING on another
//     connection still works and whether SIGTERM ended it. Same script.
//   - SLOW (a note, not a failure): the node answered after -hang (plus
//     four times Redis's time) but before the HANG deadline: a loaded
//     machine or a large value, not a frozen node. Printed with both
//     servers' times, so a command slow on every run stands out.
//   - Divergences, counted by kind: the node does not know the command or
//     subcommand; error where Redis replied and the reverse; another error
//     code (first word: ERR, WRONGTYPE...); the same code with another text
//     (the softer kind); another reply. A table lists the most frequent
//     (command, kind) pairs with an example each.
//
// After a CRASH or HANG both servers are restarted (with the setup) and the
// run goes on, so one run reports them all. Every seed is printed with the
// number of commands it sent: -seed N -n M replays it exactly (the lines
// depend only on the seed and on Redis's COMMAND DOCS).
//
// Exit status: 0 when nothing crashed or hung, 1 when something did, 2
// when the run could not start. Divergences never fail the run.
//
// It must not touch anything but the processes it started (stopped by PID)
// and its own temp dir; it never sends commands to another host.
package main
