package sentinel

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shoal-dev/shoal/node/resp"
)

// RedisVersion is the version a sentinel reports (INFO, HELLO).
const RedisVersion = "7.0.15"

// cmdSpec is one command of sentinel mode: its arity (negative: at least)
// and whether it runs before AUTH and in the subscribed state.
type cmdSpec struct {
	arity      int
	noAuth     bool
	subscribed bool
	run        func(s *Sentinel, c *client, w *resp.Writer, argv []string) bool
}

// commandTable is the command table of sentinel mode (sentinelcmds in
// Redis 7.0): every other command is unknown.
var commandTable map[string]cmdSpec

func init() {
	commandTable = map[string]cmdSpec{
		"ping":         {arity: -1, subscribed: true, run: cmdPing},
		"sentinel":     {arity: -2, run: cmdSentinel},
		"subscribe":    {arity: -2, subscribed: true, run: cmdSubscribe},
		"unsubscribe":  {arity: -1, subscribed: true, run: cmdUnsubscribe},
		"psubscribe":   {arity: -2, subscribed: true, run: cmdPsubscribe},
		"punsubscribe": {arity: -1, subscribed: true, run: cmdPunsubscribe},
		"publish":      {arity: 3, run: cmdPublish},
		"info":         {arity: -1, run: cmdInfo},
		"role":         {arity: 1, run: cmdRole},
		"client":       {arity: -2, run: cmdClient},
		"shutdown":     {arity: -1, run: cmdShutdown},
		"auth":         {arity: -2, noAuth: true, run: cmdAuth},
		"hello":        {arity: -1, noAuth: true, run: cmdHello},
		"command":      {arity: -1, run: cmdCommand},
		"quit":         {arity: -1, noAuth: true, subscribed: true, run: func(_ *Sentinel, _ *client, w *resp.Writer, _ []string) bool { w.OK(); return true }},
	}
}

func arityOK(arity, n int) bool { return arity == n || arity < 0 && n >= -arity }

// dispatch runs one command; it returns true when the client is to be
// closed. Caller holds s.mu.
func (s *Sentinel) dispatch(c *client, w *resp.Writer, argv []string) bool {
	s.commands++
	name := strings.ToLower(argv[0])
	spec, ok := commandTable[name]
	if !ok {
		var b strings.Builder
		for i, a := range argv[1:] {
			if i >= 128 || b.Len() >= 128 {
				break
			}
			if len(a) > 128 {
				a = a[:128]
			}
			fmt.Fprintf(&b, "'%s' ", a)
		}
		if len(argv[0]) > 128 {
			argv[0] = argv[0][:128]
		}
		w.Error(fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", argv[0], b.String()))
		return false
	}
	if !arityOK(spec.arity, len(argv)) {
		w.Error(fmt.Sprintf("ERR wrong number of arguments for '%s' command", name))
		return false
	}
	if !c.authed && !spec.noAuth {
		w.Error("NOAUTH Authentication required.")
		return false
	}
	if c.proto == 2 && c.subscriptions() > 0 && !spec.subscribed {
		w.Error(fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", name))
		return false
	}
	return spec.run(s, c, w, argv)
}

func cmdPing(_ *Sentinel, c *client, w *resp.Writer, argv []string) bool {
	if len(argv) > 2 {
		w.Error("ERR wrong number of arguments for 'ping' command")
		return false
	}
	if c.proto == 2 && c.subscriptions() > 0 {
		w.ArrayLen(2)
		w.BulkString("pong")
		if len(argv) == 2 {
			w.BulkString(argv[1])
		} else {
			w.BulkString("")
		}
		return false
	}
	if len(argv) == 2 {
		w.BulkString(argv[1])
	} else {
		w.SimpleString("PONG")
	}
	return false
}

func subReply(c *client, w *resp.Writer, kind, name string) {
	if c.proto == 3 {
		w.PushLen(3)
	} else {
		w.ArrayLen(3)
	}
	w.BulkString(kind)
	if name == "" {
		w.Null()
	} else {
		w.BulkString(name)
	}
	w.Int(int64(c.subscriptions()))
}

func cmdSubscribe(s *Sentinel, c *client, w *resp.Writer, argv []string) bool {
	for _, ch := range argv[1:] {
		if !c.channels[ch] {
			c.channels[ch] = true
			if s.pubsub.channels[ch] == nil {
				s.pubsub.channels[ch] = map[*client]bool{}
			}
			s.pubsub.channels[ch][c] = true
		}
		subReply(c, w, "subscribe", ch)
	}
	return false
}

func cmdPsubscribe(s *Sentinel, c *client, w *resp.Writer, argv []string) bool {
	for _, p := range argv[1:] {
		if !c.patterns[p] {
			c.patterns[p] = true
			if s.pubsub.patterns[p] == nil {
				s.pubsub.patterns[p] = map[*client]bool{}
			}
			s.pubsub.patterns[p][c] = true
		}
		subReply(c, w, "psubscribe", p)
	}
	return false
}

func cmdUnsubscribe(s *Sentinel, c *client, w *resp.Writer, argv []string) bool {
	unsubscribe(c, w, "unsubscribe", c.channels, s.pubsub.channels, argv[1:])
	return false
}

func cmdPunsubscribe(s *Sentinel, c *client, w *resp.Writer, argv []string) bool {
	unsubscribe(c, w, "punsubscribe", c.patterns, s.pubsub.patterns, argv[1:])
	return false
}

// unsubscribe removes the client from names (all of its own when none)
// of one kind of subscription: mine is the client's set, all the hub's.
func unsubscribe(c *client, w *resp.Writer, kind string, mine map[string]bool, all map[string]map[*client]bool, names []string) {
	if len(names) == 0 {
		for n := range mine {
			names = append(names, n)
		}
		if len(names) == 0 {
			subReply(c, w, kind, "")
			return
		}
	}
	for _, n := range names {
		if mine[n] {
			delete(mine, n)
			delete(all[n], c)
			if len(all[n]) == 0 {
				delete(all, n)
			}
		}
		subReply(c, w, kind, n)
	}
}

// cmdPublish is sentinelPublishCommand: only hello messages, which are
// processed as if received from an instance.
func cmdPublish(s *Sentinel, _ *client, w *resp.Writer, argv []string) bool {
	if argv[1] != helloChannel {
		w.Error("ERR Only HELLO messages are accepted by Sentinel instances.")
		return false
	}
	s.processHello(argv[2])
	w.Int(1)
	return false
}

func cmdRole(s *Sentinel, _ *client, w *resp.Writer, _ []string) bool {
	w.ArrayLen(2)
	w.BulkString("sentinel")
	ms := s.sortedMasters()
	w.ArrayLen(len(ms))
	for _, m := range ms {
		w.BulkString(m.name)
	}
	return false
}

func cmdAuth(s *Sentinel, c *client, w *resp.Writer, argv []string) bool {
	if len(argv) > 3 {
		w.Error("ERR syntax error")
		return false
	}
	if s.cfg.RequirePass == "" {
		w.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		return false
	}
	pass := argv[len(argv)-1]
	if len(argv) == 3 && argv[1] != "default" || pass != s.cfg.RequirePass {
		w.Error("WRONGPASS invalid username-password pair or user is disabled.")
		return false
	}
	c.authed = true
	w.OK()
	return false
}

func cmdHello(s *Sentinel, c *client, w *resp.Writer, argv []string) bool {
	proto := c.proto
	i := 1
	if len(argv) > 1 {
		v, err := strconv.Atoi(argv[1])
		if err != nil {
			w.Error("ERR Protocol version is not an integer or out of range")
			return false
		}
		if v < 2 || v > 3 {
			w.Error("NOPROTO unsupported protocol version")
			return false
		}
		proto = v
		i = 2
	}
	name := c.name
	for ; i < len(argv); i++ {
		switch strings.ToLower(argv[i]) {
		case "auth":
			if i+2 >= len(argv) {
				w.Error(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", argv[i]))
				return false
			}
			if s.cfg.RequirePass == "" || argv[i+1] != "default" || argv[i+2] != s.cfg.RequirePass {
				w.Error("WRONGPASS invalid username-password pair or user is disabled.")
				return false
			}
			c.authed = true
			i += 2
		case "setname":
			if i+1 >= len(argv) {
				w.Error(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", argv[i]))
				return false
			}
			name = argv[i+1]
			i++
		default:
			w.Error(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", argv[i]))
			return false
		}
	}
	if !c.authed {
		w.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return false
	}
	c.proto, c.name = proto, name
	w.SetProto(proto)
	w.MapLen(7)
	w.BulkString("server")
	w.BulkString("redis")
	w.BulkString("version")
	w.BulkString(RedisVersion)
	w.BulkString("proto")
	w.Int(int64(proto))
	w.BulkString("id")
	w.Int(c.id)
	w.BulkString("mode")
	w.BulkString("sentinel")
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("modules")
	w.ArrayLen(0)
	return false
}

// clientSubcommands are the CLIENT subcommands a sentinel serves.
var clientSubcommands = map[string]bool{"setname": true, "getname": true, "id": true, "list": true, "info": true, "kill": true}

func cmdClient(s *Sentinel, c *client, w *resp.Writer, argv []string) bool {
	sub := strings.ToLower(argv[1])
	switch {
	case sub == "setname" && len(argv) == 3:
		if strings.ContainsAny(argv[2], " \n") {
			w.Error("ERR Client names cannot contain spaces, newlines or special characters.")
			return false
		}
		c.name = argv[2]
		w.OK()
	case sub == "getname" && len(argv) == 2:
		if c.name == "" {
			w.Null()
		} else {
			w.BulkString(c.name)
		}
	case sub == "id" && len(argv) == 2:
		w.Int(c.id)
	case (sub == "list" || sub == "info") && (len(argv) == 2 || sub == "list"):
		var b strings.Builder
		for cl := range s.clients {
			if sub == "info" && cl != c {
				continue
			}
			fmt.Fprintf(&b, "id=%d addr=%s laddr=%s fd=0 name=%s age=%d idle=0 flags=N db=0 sub=%d psub=%d ssub=0 multi=-1 resp=%d\n",
				cl.id, cl.nc.RemoteAddr(), cl.nc.LocalAddr(), cl.name, int(time.Since(cl.created).Seconds()), len(cl.channels), len(cl.patterns), cl.proto)
		}
		w.BulkString(b.String())
	case sub == "kill" && len(argv) >= 3:
		n := 0
		for cl := range s.clients {
			match := len(argv) == 3 && cl.nc.RemoteAddr().String() == argv[2] ||
				len(argv) == 4 && strings.EqualFold(argv[2], "id") && strconv.FormatInt(cl.id, 10) == argv[3] ||
				len(argv) == 4 && strings.EqualFold(argv[2], "addr") && cl.nc.RemoteAddr().String() == argv[3]
			if match {
				cl.closed = true
				cl.nc.Close()
				n++
			}
		}
		if len(argv) == 3 {
			if n == 0 {
				w.Error("ERR No such client")
			} else {
				w.OK()
			}
		} else {
			w.Int(int64(n))
		}
	case clientSubcommands[sub]:
		w.Error(fmt.Sprintf("ERR wrong number of arguments for 'client|%s' command", sub))
	default:
		w.Error(fmt.Sprintf("ERR unknown subcommand '%s'. Try CLIENT HELP.", truncate(argv[1], 128)))
	}
	return false
}

func cmdShutdown(s *Sentinel, _ *client, _ *resp.Writer, _ []string) bool {
	s.logf('#', "User requested shutdown...")
	go s.Stop()
	return true
}

func cmdCommand(_ *Sentinel, _ *client, w *resp.Writer, argv []string) bool {
	if len(argv) >= 2 && strings.EqualFold(argv[1], "count") {
		w.Int(int64(len(commandTable)))
		return false
	}
	if len(argv) >= 2 {
		w.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try COMMAND HELP.", argv[1]))
		return false
	}
	names := make([]string, 0, len(commandTable))
	for n := range commandTable {
		names = append(names, n)
	}
	sortStrings(names)
	w.ArrayLen(len(names))
	for _, n := range names {
		spec := commandTable[n]
		w.ArrayLen(6)
		w.BulkString(n)
		w.Int(int64(spec.arity))
		w.ArrayLen(0)
		w.Int(0)
		w.Int(0)
		w.Int(0)
	}
	return false
}

func cmdInfo(s *Sentinel, _ *client, w *resp.Writer, argv []string) bool {
	section := "default"
	if len(argv) > 1 {
		section = strings.ToLower(argv[1])
	}
	w.Verbatim("txt", s.infoText(section))
	return false
}

// infoText is INFO section (lower case) as sentinelInfoCommand writes it:
// server, clients, stats, cpu and sentinel by default. Caller holds s.mu.
func (s *Sentinel) infoText(section string) string {
	all := section == "default" || section == "all" || section == "everything"
	var b strings.Builder
	add := func(name, title string, lines ...string) {
		if !all && section != name {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + title + "\r\n")
		for _, l := range lines {
			b.WriteString(l + "\r\n")
		}
	}
	exe, _ := os.Executable()
	up := time.Since(s.startTime)
	add("server", "Server", "redis_version:"+RedisVersion, "redis_mode:sentinel", "os:"+runtime.GOOS+" "+runtime.GOARCH,
		"arch_bits:64", "process_id:"+strconv.Itoa(os.Getpid()), "run_id:"+s.runID,
		"tcp_port:"+strconv.Itoa(s.port), "uptime_in_seconds:"+strconv.Itoa(int(up.Seconds())),
		"uptime_in_days:"+strconv.Itoa(int(up.Hours()/24)), "hz:10", "configured_hz:10",
		"executable:"+exe, "config_file:"+s.cfg.File)
	add("clients", "Clients", "connected_clients:"+strconv.Itoa(len(s.clients)), "blocked_clients:0")
	add("stats", "Stats", "total_connections_received:"+strconv.FormatInt(s.connections, 10),
		"total_commands_processed:"+strconv.FormatInt(s.commands, 10),
		"pubsub_channels:"+strconv.Itoa(len(s.pubsub.channels)), "pubsub_patterns:"+strconv.Itoa(len(s.pubsub.patterns)))
	add("cpu", "CPU", cpuLines()...)
	tilt, tiltSince := "0", "-1"
	if s.tilt {
		tilt, tiltSince = "1", strconv.Itoa(int(time.Since(s.tiltStart).Seconds()))
	}
	lines := []string{"sentinel_masters:" + strconv.Itoa(len(s.masters)), "sentinel_tilt:" + tilt, "sentinel_tilt_since_seconds:" + tiltSince,
		"sentinel_running_scripts:0", "sentinel_scripts_queue_length:0", "sentinel_simulate_failure_flags:0"}
	for i, m := range s.sortedMasters() {
		lines = append(lines, fmt.Sprintf("master%d:name=%s,status=%s,address=%s,slaves=%d,sentinels=%d",
			i, m.name, m.status(), m.addr.String(), len(m.replicas), len(m.sentinels)+1))
	}
	add("sentinel", "Sentinel", lines...)
	return b.String()
}

// cpuLines are INFO cpu's fields, from the process's resource usage (one
// thread of Redis's: the main thread's are the process's).
func cpuLines() []string {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) string {
		return strconv.FormatFloat(float64(t.Sec)+float64(t.Usec)/1e6, 'f', 6, 64)
	}
	return []string{"used_cpu_sys:" + tv(ru.Stime), "used_cpu_user:" + tv(ru.Utime),
		"used_cpu_sys_children:0.000000", "used_cpu_user_children:0.000000",
		"used_cpu_sys_main_thread:" + tv(ru.Stime), "used_cpu_user_main_thread:" + tv(ru.Utime)}
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
