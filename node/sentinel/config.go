package sentinel

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/node/resp"
	"github.com/shoal-dev/shoal/node/tlsconf"
)

// Config is what the command line and sentinel.conf say. Server
// directives are fields; the "sentinel ..." directives are kept in order
// and applied by New, as sentinel.c queues them until the whole file is
// read.
type Config struct {
	// File is the absolute path of sentinel.conf; the state is rewritten
	// there.
	File        string
	Port        int
	Bind        []string
	Dir         string
	LogFile     string
	PidFile     string
	RequirePass string
	// MetricsPort is metrics-port, the node's own directive: the port of
	// the Prometheus endpoint (node/metrics) on the bind addresses; 0 is
	// none.
	MetricsPort int
	// TLSPort is tls-port: clients (and other sentinels) connect over
	// TLS there; 0 is none. With a TLS port, port 0 means no plain port
	// (as Redis), not an ephemeral one.
	TLSPort int
	// TLSReplication is tls-replication: the links to the monitored
	// masters, their replicas and the other sentinels speak TLS, as
	// sentinel.c's instanceLinkNegotiateTLS does.
	TLSReplication bool
	// TLS are the tls-* settings of the certificate, the key, the CA and
	// the handshake (tls-auth-clients).
	TLS tlsconf.Settings
	// Sentinel lists the arguments after "sentinel" of each directive.
	Sentinel [][]string
	// Ignored lists the server directives accepted with no effect.
	Ignored []string
}

// IsSentinelMode reports whether the command line asks for sentinel mode
// (an argument "--sentinel", as redis-server's checkForSentinelMode).
func IsSentinelMode(args []string) bool {
	for _, a := range args {
		if a == "--sentinel" {
			return true
		}
	}
	return false
}

// ParseArgs reads the command line of `shoal-node --sentinel`: a config
// file (first argument, or the one right after --sentinel) and "--name
// value ..." options, each one config line appended after the file's, as
// redis-server does. A sentinel needs its config file: it rewrites it.
func ParseArgs(args []string) (*Config, error) {
	var file string
	var options []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case i == 0 && !strings.HasPrefix(a, "--"):
			file = a
		case a == "--sentinel" && file == "" && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") &&
			(i+2 == len(args) || strings.HasPrefix(args[i+2], "--")):
			// "--sentinel /path/sentinel.conf": a lone value is the file.
			file = args[i+1]
			i++
		case strings.HasPrefix(a, "--"):
			// "--sentinel" alone is the mode; "--sentinel monitor ..." a
			// directive, as any "--name value ..." is a config line.
			line := a[2:]
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				i++
				line += " " + quoteArg(args[i])
			}
			options = append(options, line)
		default:
			return nil, fmt.Errorf("Invalid argument '%s'", a)
		}
	}
	if file == "" {
		return nil, errors.New("Sentinel started without a config file. Exiting...")
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(abs, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("Sentinel config file %s is not writable: %v. Exiting...", abs, err)
	}
	data, err := readAll(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	cfg := &Config{File: abs, Port: defaultPort, TLS: tlsconf.Default()}
	text := data + "\n" + strings.Join(options, "\n")
	if err := cfg.parse(text); err != nil {
		return nil, err
	}
	return cfg, nil
}

func readAll(f *os.File) (string, error) {
	var b strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String(), sc.Err()
}

// quoteArg quotes a command-line value that holds spaces, so the line
// splits back into it.
func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"'\\") {
		return s
	}
	return strconv.Quote(s)
}

// splitLine splits a config line as sdssplitargs.
func splitLine(line string) ([]string, error) {
	parts, ok := resp.SplitArgs([]byte(line), nil)
	if !ok {
		return nil, errors.New("Unbalanced quotes in configuration line")
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out, nil
}

// ignoredDirectives are server directives a sentinel accepts and has no
// use for (Redis's CONFIG REWRITE writes some of them into sentinel.conf).
var ignoredDirectives = map[string]bool{
	"protected-mode": true, "daemonize": true, "loglevel": true, "supervised": true,
	"latency-tracking-info-percentiles": true, "user": true, "hz": true, "tcp-keepalive": true,
	"maxclients": true, "always-show-logo": true, "syslog-enabled": true, "timeout": true,
	"tcp-backlog": true, "set-proc-title": true, "acllog-max-len": true, "io-threads": true,
}

func (cfg *Config) parse(text string) error {
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		argv, err := splitLine(line)
		if err != nil {
			return configError(n+1, line, err.Error())
		}
		if len(argv) == 0 {
			continue
		}
		name := strings.ToLower(argv[0])
		switch {
		case name == "sentinel":
			if len(argv) > 1 {
				cfg.Sentinel = append(cfg.Sentinel, argv[1:])
			}
		case name == "port" && len(argv) == 2:
			p, err := strconv.Atoi(argv[1])
			if err != nil || p < 0 || p > 65535 {
				return configError(n+1, line, "Invalid port")
			}
			cfg.Port = p
		case name == "metrics-port" && len(argv) == 2:
			p, err := strconv.Atoi(argv[1])
			if err != nil || p < 0 || p > 65535 {
				return configError(n+1, line, "Invalid metrics-port")
			}
			cfg.MetricsPort = p
		case name == "bind" && len(argv) >= 2:
			cfg.Bind = argv[1:]
		case name == "dir" && len(argv) == 2:
			cfg.Dir = argv[1]
		case name == "logfile" && len(argv) == 2:
			cfg.LogFile = argv[1]
		case name == "pidfile" && len(argv) == 2:
			cfg.PidFile = argv[1]
		case name == "requirepass" && len(argv) == 2:
			cfg.RequirePass = argv[1]
		case strings.HasPrefix(name, "tls-") && len(argv) == 2:
			if err := cfg.parseTLS(name, argv[1]); err != nil {
				return configError(n+1, line, err.Error())
			}
		case ignoredDirectives[name]:
			cfg.Ignored = append(cfg.Ignored, name)
		default:
			return configError(n+1, line, "Bad directive or wrong number of arguments")
		}
	}
	return nil
}

// tlsFiles are the tls-* directives that name a file or a list.
var tlsFiles = map[string]func(*tlsconf.Settings) *string{
	"tls-cert-file":            func(t *tlsconf.Settings) *string { return &t.CertFile },
	"tls-key-file":             func(t *tlsconf.Settings) *string { return &t.KeyFile },
	"tls-key-file-pass":        func(t *tlsconf.Settings) *string { return &t.KeyFilePass },
	"tls-client-cert-file":     func(t *tlsconf.Settings) *string { return &t.ClientCertFile },
	"tls-client-key-file":      func(t *tlsconf.Settings) *string { return &t.ClientKeyFile },
	"tls-client-key-file-pass": func(t *tlsconf.Settings) *string { return &t.ClientKeyFilePass },
	"tls-ca-cert-file":         func(t *tlsconf.Settings) *string { return &t.CACertFile },
	"tls-ca-cert-dir":          func(t *tlsconf.Settings) *string { return &t.CACertDir },
	"tls-protocols":            func(t *tlsconf.Settings) *string { return &t.Protocols },
	"tls-ciphers":              func(t *tlsconf.Settings) *string { return &t.Ciphers },
}

// tlsInert are the tls-* directives accepted with no effect on a
// sentinel (no cluster bus) or in Go's TLS.
var tlsInert = map[string]bool{
	"tls-cluster": true, "tls-dh-params-file": true, "tls-ciphersuites": true, "tls-prefer-server-ciphers": true,
	"tls-session-cache-size": true, "tls-session-cache-timeout": true,
}

// parseTLS reads one tls-* directive (redis.conf's names and values).
func (cfg *Config) parseTLS(name, v string) error {
	yesNo := func(dst *bool) error {
		switch strings.ToLower(v) {
		case "yes":
			*dst = true
		case "no":
			*dst = false
		default:
			return errors.New("argument must be 'yes' or 'no'")
		}
		return nil
	}
	if field, ok := tlsFiles[name]; ok {
		*field(&cfg.TLS) = v
		return nil
	}
	switch {
	case name == "tls-port":
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return errors.New("Invalid tls-port")
		}
		cfg.TLSPort = p
	case name == "tls-replication":
		return yesNo(&cfg.TLSReplication)
	case name == "tls-session-caching":
		return yesNo(&cfg.TLS.SessionCaching)
	case name == "tls-auth-clients":
		switch strings.ToLower(v) {
		case "yes", "no", "optional":
			cfg.TLS.AuthClients = strings.ToLower(v)
		default:
			return errors.New("argument(s) must be one of the following: no, yes, optional")
		}
	case tlsInert[name]:
		cfg.Ignored = append(cfg.Ignored, name)
	default:
		return errors.New("Bad directive or wrong number of arguments")
	}
	return nil
}

// UsesTLS reports whether the sentinel needs TLS material: a TLS port or
// TLS links.
func (cfg *Config) UsesTLS() bool { return cfg.TLSPort != 0 || cfg.TLSReplication }

func configError(n int, line, msg string) error {
	return fmt.Errorf("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line %d\n>>> '%s'\n%s", n, line, msg)
}
