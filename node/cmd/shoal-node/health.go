package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Health checks, run by the kubelet as exec probes inside the node's own
// container:
//
//	shoal-node health live|ready [--port 6379] [--user NAME] [--password-env NAME] [--timeout 2s]
//
// They talk to the node on 127.0.0.1 as any client does, with the password
// read from the environment variable NAME (the container's), and exit 0 when
// the check passes, 1 with the reason on stderr when it does not.

// The checks.
const (
	checkLive  = "live"
	checkReady = "ready"
)

// Fields of INFO the checks read.
const (
	infoLoading       = "loading"
	infoAsyncLoading  = "async_loading"
	infoRole          = "role"
	infoSyncing       = "master_sync_in_progress"
	infoClusterOn     = "cluster_enabled"
	infoLinkStatus    = "master_link_status"
	infoReplicaOffset = "slave_repl_offset"
	roleReplica       = "slave"
	loadingErrPrefix  = "LOADING"
	defaultProbePort  = 6379
	defaultProbeLimit = 2 * time.Second
)

// observation is what one health check saw of the node. The checks are pure
// functions of it.
type observation struct {
	// Answered is true when the node replied to PING at all (an error reply
	// such as LOADING counts); Err is the transport error otherwise.
	Answered bool
	Err      error
	// Ping is PING's reply: "PONG", or the text of the error reply.
	Ping string
	// Info holds the fields of INFO persistence, replication and cluster;
	// nil when they were not read (PING failed), InfoErr says why else.
	Info    map[string]string
	InfoErr error
	// ClusterInfoErr is the error of CLUSTER INFO, asked only in cluster
	// mode: a cluster-mode node that cannot report its cluster state is not
	// a node the operator can form or repair a cluster with.
	ClusterInfoErr error
}

// isLive: the node answers PING, with any reply. A node loading its dataset
// (LOADING), refusing stale reads (MASTERDOWN) or asking for a password is
// alive: its event loop runs, and restarting it would only make things worse.
func isLive(o observation) error {
	if !o.Answered {
		return fmt.Errorf("no reply to PING: %v", o.Err)
	}
	return nil
}

// isReady: the node answers PONG, is not loading, and is not a replica in
// the middle of a full synchronization with its master. The cluster state
// (cluster_state:ok) is deliberately not a condition: the operator waits for
// every pod to be Ready before it forms the cluster, and a cluster whose
// slots are not all served still has nodes that serve theirs.
func isReady(o observation) error {
	if err := isLive(o); err != nil {
		return err
	}
	if strings.HasPrefix(o.Ping, loadingErrPrefix) {
		return errors.New("loading the dataset in memory")
	}
	if o.Ping != "PONG" {
		return fmt.Errorf("PING replied %q", o.Ping)
	}
	if o.InfoErr != nil {
		return fmt.Errorf("INFO: %v", o.InfoErr)
	}
	if o.Info[infoLoading] == "1" || o.Info[infoAsyncLoading] == "1" {
		return errors.New("loading the dataset in memory")
	}
	if o.Info[infoRole] == roleReplica && o.Info[infoSyncing] == "1" {
		return errors.New("replica in a full synchronization with its master")
	}
	if o.Info[infoClusterOn] == "1" && o.ClusterInfoErr != nil {
		return fmt.Errorf("CLUSTER INFO: %v", o.ClusterInfoErr)
	}
	return nil
}

// parseInfo reads the "field:value" lines of an INFO (or CLUSTER INFO)
// reply; section headers ("# Replication") and blank lines are skipped.
func parseInfo(reply string) map[string]string {
	out := map[string]string{}
	for line := range strings.Lines(reply) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// probeTarget is where and how a check reaches the node.
type probeTarget struct {
	Port     int
	Username string
	Password string
	Timeout  time.Duration
	// TLS, when not nil, is how the port is spoken to (--tls-dir).
	TLS *tls.Config
}

// client is a one-connection client of the node at addr that never retries.
func (t probeTarget) client(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:            addr,
		Username:        t.Username,
		Password:        t.Password,
		TLSConfig:       t.TLS,
		DialTimeout:     t.Timeout,
		ReadTimeout:     t.Timeout,
		WriteTimeout:    t.Timeout,
		PoolSize:        1,
		MaxRetries:      -1,
		DisableIdentity: true,
		Protocol:        2,
	})
}

func (t probeTarget) localAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(t.Port))
}

// observe asks the local node what the checks need. want is the check: live
// needs only PING.
func observe(ctx context.Context, t probeTarget, want string) observation {
	rdb := t.client(t.localAddr())
	defer rdb.Close() //nolint:errcheck // read-only use
	var o observation
	pong, err := rdb.Ping(ctx).Result()
	switch {
	case err == nil:
		o.Answered, o.Ping = true, pong
	case isReplyError(err):
		o.Answered, o.Ping = true, err.Error()
	default:
		o.Err = err
	}
	if want == checkLive || o.Ping != "PONG" {
		return o
	}
	info, err := rdb.Info(ctx, "persistence", "replication", "cluster").Result()
	if err != nil {
		o.InfoErr = err
		return o
	}
	o.Info = parseInfo(info)
	if o.Info[infoClusterOn] == "1" {
		_, o.ClusterInfoErr = rdb.ClusterInfo(ctx).Result()
	}
	return o
}

// connFlags are the flags of every subcommand that connects to the node.
type connFlags struct {
	port        int
	user        string
	passwordEnv string
	timeout     time.Duration
	tlsDir      string
}

func (c *connFlags) register(fs *flag.FlagSet, timeout time.Duration) {
	fs.IntVar(&c.port, "port", defaultProbePort, "client port of the node on 127.0.0.1")
	fs.StringVar(&c.user, "user", "", "ACL user to authenticate as (the default user when empty)")
	fs.StringVar(&c.passwordEnv, "password-env", "", "environment variable holding the password (none when empty)")
	fs.DurationVar(&c.timeout, "timeout", timeout, "deadline of the whole command")
	fs.StringVar(&c.tlsDir, "tls-dir", "", "speak TLS with tls.crt, tls.key and ca.crt of this directory (the node's port is a tls-port)")
}

func (c *connFlags) target(perCall time.Duration) probeTarget {
	t := probeTarget{Port: c.port, Username: c.user, Timeout: min(perCall, c.timeout)}
	if c.passwordEnv != "" {
		t.Password = os.Getenv(c.passwordEnv)
	}
	if c.tlsDir != "" {
		t.TLS = probeTLS(c.tlsDir)
	}
	return t
}

// runHealth is `shoal-node health live|ready [flags]`.
func runHealth(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf connFlags
	cf.register(fs, defaultProbeLimit)
	if len(args) == 0 || (args[0] != checkLive && args[0] != checkReady) {
		fmt.Fprintln(stderr, "Usage: shoal-node health live|ready [--port 6379] [--user NAME] [--password-env NAME] [--timeout 2s]")
		return 2
	}
	check := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), cf.timeout)
	defer cancel()
	o := observe(ctx, cf.target(cf.timeout), check)
	verdict := isLive
	if check == checkReady {
		verdict = isReady
	}
	if err := verdict(o); err != nil {
		fmt.Fprintf(stderr, "not %s: %v\n", check, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", check)
	return 0
}
