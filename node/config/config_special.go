package config

import (
	"errors"
	"os"
	"strconv"
	"strings"
)

// The parameters of Redis's createSpecialConfig rows, and the few typed
// ones that need more than a type's parser.

func dirParam() Param {
	return Param{name: "dir", flags: FlagProtected, kind: KindSpecial,
		get: func(c *Config) string {
			if d, err := os.Getwd(); err == nil {
				return d
			}
			return ""
		},
		set: setOne(func(c *Config, v string) error {
			if err := os.Chdir(v); err != nil {
				return errors.New(ErrnoText(err))
			}
			c.Dir = v
			if abs, err := os.Getwd(); err == nil {
				c.Dir = abs // a second chdir to it (main) stays put
			}
			return nil
		}),
		rewrite: func(c, def *Config) []rewriteLine {
			d, err := os.Getwd()
			if err != nil {
				return nil
			}
			return []rewriteLine{{"dir " + QuoteRepr(d), true}}
		}}
}

// ErrnoText is strerror's text for a failed system call.
func ErrnoText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		s := pe.Err.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

// saveParam is save: pairs of seconds (>= 1) and changes (>= 0), "" for
// none. In the config file each save line adds rules; CONFIG SET replaces
// them. Config.Save holds them canonical ("3600 1 300 100").
func saveParam() Param {
	return Param{name: "save", flags: FlagMultiArg, kind: KindSpecial,
		get: func(c *Config) string { return c.Save },
		set: func(c *Config, args []string) error {
			rules, err := parseSaveRules(args)
			if err != nil {
				return err
			}
			c.Save = rules
			return nil
		},
		rewrite: func(c, def *Config) []rewriteLine {
			f := strings.Fields(c.Save)
			if len(f) == 0 {
				return []rewriteLine{{`save ""`, true}}
			}
			var out []rewriteLine
			for i := 0; i+1 < len(f); i += 2 {
				out = append(out, rewriteLine{"save " + f[i] + " " + f[i+1], true})
			}
			return out
		}}
}

func parseSaveRules(args []string) (string, error) {
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	if len(args)%2 != 0 {
		return "", errors.New("Invalid save parameters")
	}
	out := make([]string, 0, len(args))
	for i, a := range args {
		v, ok := strtollFull(a, 10)
		if !ok || (i%2 == 0 && v < 1) || (i%2 == 1 && v < 0) {
			return "", errors.New("Invalid save parameters")
		}
		if i%2 == 1 {
			v = int64(int32(v)) // changes is an int in Redis
		}
		out = append(out, strconv.FormatInt(v, 10))
	}
	return strings.Join(out, " "), nil
}

// appendSaveRules is a save line of the config file: the first one
// replaces the defaults, the next ones add to it, and save "" clears the
// rules read so far.
func (c *Config) appendSaveRules(args []string, first bool) error {
	rules, err := parseSaveRules(args)
	if err != nil {
		return err
	}
	if !first && c.Save != "" && rules != "" {
		rules = c.Save + " " + rules
	}
	c.Save = rules
	return nil
}

func outputLimitParam() Param {
	return Param{name: "client-output-buffer-limit", flags: FlagMultiArg, kind: KindSpecial,
		get: func(c *Config) string {
			parts := make([]string, 0, 3)
			for i, l := range c.ClientOutputLimit {
				name := outputClassNames[i]
				if i == ClassReplica {
					name = "slave"
				}
				parts = append(parts, name+" "+strconv.FormatUint(uint64(l.Hard), 10)+" "+
					strconv.FormatUint(uint64(l.Soft), 10)+" "+strconv.Itoa(l.SoftSeconds))
			}
			return strings.Join(parts, " ")
		},
		set: func(c *Config, args []string) error { return setOutputLimits(c, args) },
		rewrite: func(c, def *Config) []rewriteLine {
			out := make([]rewriteLine, 0, 3)
			for i, l := range c.ClientOutputLimit {
				out = append(out, rewriteLine{"client-output-buffer-limit " + outputClassNames[i] + " " +
					formatMemory(l.Hard) + " " + formatMemory(l.Soft) + " " + strconv.Itoa(l.SoftSeconds),
					l != def.ClientOutputLimit[i]})
			}
			return out
		}}
}

// setOutputLimits is Redis's updateClientOutputBufferLimit: groups of
// <class> <hard> <soft> <soft seconds>, all checked before any is set.
func setOutputLimits(c *Config, f []string) error {
	if len(f)%4 != 0 {
		return errors.New("Wrong number of arguments in buffer limit configuration.")
	}
	limits := c.ClientOutputLimit
	for i := 0; i < len(f); i += 4 {
		class := -1
		switch strings.ToLower(f[i]) {
		case "normal":
			class = ClassNormal
		case "replica", "slave":
			class = ClassReplica
		case "pubsub":
			class = ClassPubSub
		}
		if class < 0 {
			return errors.New("Invalid client class specified in buffer limit configuration.")
		}
		hard, ok1 := memtoull(f[i+1])
		soft, ok2 := memtoull(f[i+2])
		secs, ok3 := strtollFull(f[i+3], 10)
		secs = int64(int32(secs)) // an int in Redis
		if !ok1 || !ok2 || !ok3 || secs < 0 {
			return errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		limits[class] = OutputLimit{int64(hard), int64(soft), int(secs)}
	}
	c.ClientOutputLimit = limits
	return nil
}

func oomScoreAdjValuesParam() Param {
	return Param{name: "oom-score-adj-values", flags: FlagMultiArg, kind: KindSpecial,
		noEffect: "the node does not write /proc/self/oom_score_adj; Kubernetes sets the pod's OOM score",
		get: func(c *Config) string {
			v := c.OOMScoreAdjValues
			return strconv.Itoa(v[0]) + " " + strconv.Itoa(v[1]) + " " + strconv.Itoa(v[2])
		},
		set: func(c *Config, args []string) error {
			if len(args) != 3 {
				return errors.New("wrong number of arguments")
			}
			var v [3]int
			for i, a := range args {
				n, ok := strtollFull(a, 10)
				if !ok || n < -2000 || n > 2000 {
					return errors.New("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
				}
				v[i] = int(n)
			}
			c.OOMScoreAdjValues = v
			return nil
		},
		rewrite: func(c, def *Config) []rewriteLine {
			v := c.OOMScoreAdjValues
			return []rewriteLine{{"oom-score-adj-values " + strconv.Itoa(v[0]) + " " + strconv.Itoa(v[1]) + " " +
				strconv.Itoa(v[2]), v != def.OOMScoreAdjValues}}
		}}
}

func notifyParam() Param {
	return Param{name: "notify-keyspace-events", kind: KindSpecial,
		get: func(c *Config) string { return keyspaceEventsFlagsToString(c.NotifyKeyspaceEvents) },
		set: setOne(func(c *Config, v string) error {
			f, ok := keyspaceEventsStringToFlags(v)
			if !ok {
				return errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
			}
			c.NotifyKeyspaceEvents = f
			return nil
		}),
		rewrite: func(c, def *Config) []rewriteLine {
			return []rewriteLine{{"notify-keyspace-events " + QuoteRepr(keyspaceEventsFlagsToString(c.NotifyKeyspaceEvents)),
				c.NotifyKeyspaceEvents != 0}}
		}}
}

func bindParam() Param {
	return Param{name: "bind", flags: FlagMultiArg, kind: KindSpecial,
		get: func(c *Config) string { return strings.Join(c.Bind, " ") },
		set: func(c *Config, args []string) error {
			if len(args) > 16 {
				return errors.New("Too many bind addresses specified.")
			}
			if len(args) == 1 && args[0] == "" {
				args = nil
			}
			c.Bind = append([]string{}, args...)
			return nil
		},
		rewrite: func(c, def *Config) []rewriteLine {
			if strings.Join(c.Bind, " ") == strings.Join(def.Bind, " ") {
				return nil
			}
			if len(c.Bind) == 0 {
				return []rewriteLine{{`bind ""`, true}}
			}
			return []rewriteLine{{"bind " + strings.Join(c.Bind, " "), true}}
		}}
}

func replicaofParam() Param {
	return Param{name: "replicaof", alias: "slaveof", flags: FlagImmutable | FlagMultiArg, kind: KindSpecial,
		get: func(c *Config) string { return c.Repl.ReplicaOf },
		set: func(c *Config, args []string) error {
			if len(args) != 2 {
				return errors.New("wrong number of arguments")
			}
			c.Repl.ReplicaOf = ""
			if strings.EqualFold(args[0], "no") && strings.EqualFold(args[1], "one") {
				return nil
			}
			n, ok := strtollFull(args[1], 10)
			if !ok || n < 0 || n > 65535 {
				return errors.New("Invalid master port")
			}
			c.Repl.ReplicaOf = args[0] + " " + strconv.FormatInt(n, 10)
			return nil
		},
		rewrite: func(c, def *Config) []rewriteLine {
			if c.ClusterEnabled || c.Repl.ReplicaOf == "" {
				return nil
			}
			return []rewriteLine{{"replicaof " + c.Repl.ReplicaOf, true}}
		}}
}

func latencyPercentilesParam() Param {
	return Param{name: "latency-tracking-info-percentiles", flags: FlagMultiArg, kind: KindSpecial,
		get: func(c *Config) string { return formatPercentiles(c.LatencyTrackingPercentiles, " ") },
		set: func(c *Config, args []string) error {
			if len(args) == 1 && args[0] == "" {
				args = nil
			}
			out := make([]float64, 0, len(args))
			for _, a := range args {
				f, ok := parseRedisDouble(a)
				if !ok {
					return errors.New("Invalid latency-tracking-info-percentiles parameters")
				}
				if f > 100 || f < 0 {
					return errors.New("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
				}
				out = append(out, f)
			}
			c.LatencyTrackingPercentiles = out
			return nil
		},
		rewrite: func(c, def *Config) []rewriteLine {
			if len(c.LatencyTrackingPercentiles) == 0 {
				return []rewriteLine{{`latency-tracking-info-percentiles ""`, true}}
			}
			return []rewriteLine{{"latency-tracking-info-percentiles " + formatPercentiles(c.LatencyTrackingPercentiles, " "), true}}
		}}
}

func formatPercentiles(ps []float64, sep string) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		// Redis prints %f and trims the trailing zeros.
		s := strconv.FormatFloat(p, 'f', 6, 64)
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
		parts[i] = s
	}
	return strings.Join(parts, sep)
}

// parseRedisDouble is Redis's string2d: the whole string is a float with
// no leading space (nan refused).
func parseRedisDouble(s string) (float64, bool) {
	if s == "" || s[0] == ' ' || s[0] == '\t' {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	if f != f {
		return 0, false
	}
	return f, true
}

// shutdownOnSignalParam is shutdown-on-sigint / shutdown-on-sigterm: one
// or more of default, save, nosave, now, force.
func shutdownOnSignalParam(name string, f func(c *Config) *string) Param {
	values := []string{"default", "save", "nosave", "now", "force"}
	return Param{name: name, flags: FlagMultiArg, kind: KindEnum, enum: values,
		get: func(c *Config) string { return *f(c) },
		set: func(c *Config, args []string) error {
			set := map[string]bool{}
			for _, a := range args {
				found := false
				for _, v := range values {
					if strings.EqualFold(a, v) {
						set[v], found = true, true
					}
				}
				if !found {
					return errors.New("argument(s) must be one of the following: " + strings.Join(values, ", "))
				}
			}
			if len(args) == 0 {
				return errors.New("argument(s) must be one of the following: " + strings.Join(values, ", "))
			}
			if set["save"] && set["nosave"] {
				return errors.New("shutdown options SAVE and NOSAVE can't be used simultaneously")
			}
			var out []string
			for _, v := range values[1:] {
				if set[v] {
					out = append(out, v)
				}
			}
			if len(out) == 0 {
				out = []string{"default"}
			}
			*f(c) = strings.Join(out, " ")
			return nil
		}}
}

// hzParam is hz: any int >= 0, clamped to 1..500 as Redis's updateHZ.
func hzParam() Param {
	p := intParam("hz", "", 0, 0, intMax, func(c *Config) *int { return &c.Hz })
	set := p.set
	p.set = func(c *Config, args []string) error {
		if err := set(c, args); err != nil {
			return err
		}
		c.Hz = min(max(c.Hz, 1), 500)
		return nil
	}
	return p
}

// refuseTrue makes a bool parameter refuse yes with Redis's error (for
// what the node cannot do).
func refuseTrue(p Param, f func(c *Config) *bool, reason string) Param {
	set := p.set
	p.set = func(c *Config, args []string) error {
		if err := set(c, args); err != nil {
			return err
		}
		if *f(c) {
			*f(c) = false
			return errors.New(reason)
		}
		return nil
	}
	return p
}
