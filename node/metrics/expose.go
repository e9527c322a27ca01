package metrics

import (
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/server"
)

const prefix = "redis_"

// Expose turns one scrape of the node into the text exposition, as
// redis_exporter would have made it from the same INFO and CLUSTER INFO
// replies, plus the latency histograms. databases is the databases
// parameter (the empty ones are exposed with zero keys); now dates
// redis_start_time_seconds.
func Expose(sc server.Scrape, databases int, now time.Time) []byte {
	e := newExposition()
	e.add(prefix+"up", typeGauge, "Information about the Redis instance", 1)
	fields := exposeInfo(e, sc.Info, now)
	exposeKeyspace(e, sc.Info, fields, databases)
	exposeCluster(e, sc.ClusterInfo)
	exposeLatency(e, sc.Latency)
	e.add("shoal_metrics_scrape_lock_seconds", typeGauge, "How long this scrape held the node's lock", sc.Took.Seconds())
	return e.Bytes()
}

// infoLines calls f for each field of an INFO text with its section
// title ("Replication").
func infoLines(info string, f func(section, key, value string)) {
	section := ""
	for line := range strings.Lines(info) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "# ") {
			section = line[2:]
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok && k != "" {
			f(section, k, v)
		}
	}
}

// exposeInfo exposes the INFO fields and returns them all by name.
func exposeInfo(e *exposition, info string, now time.Time) map[string]string {
	fields := map[string]string{}
	var masterHost, masterPort string
	commands := map[string][2]float64{} // calls, usec
	percentiles := map[string][]label{}
	var latencyOrder []string
	infoLines(info, func(section, key, value string) {
		fields[key] = value
		switch key {
		case "master_host":
			masterHost = value
		case "master_port":
			masterPort = value
		}
		switch section {
		case "Server":
			switch key {
			case "uptime_in_seconds":
				if up, err := strconv.ParseFloat(value, 64); err == nil {
					e.add(prefix+"start_time_seconds", typeGauge, "Start time of the Redis instance since unix epoch in seconds.", float64(now.Unix())-up)
				}
			case "hz", "configured_hz":
				if v, err := strconv.ParseFloat(value, 64); err == nil {
					e.add(prefix+key, typeGauge, key+" metric", v)
				}
			}
		case "Replication":
			if exposeReplication(e, key, value, masterHost, masterPort) {
				return
			}
		case "Commandstats":
			if cmd, calls, usec, ok := exposeCommandStat(e, key, value); ok {
				commands[cmd] = [2]float64{calls, usec}
			}
			return
		case "Latencystats":
			if cmd, ok := strings.CutPrefix(key, "latency_percentiles_usec_"); ok {
				percentiles[cmd] = parsePercentiles(value)
				latencyOrder = append(latencyOrder, cmd)
			}
			return
		case "Errorstats":
			if code, ok := strings.CutPrefix(key, "errorstat_"); ok {
				if n, ok := subField(value, "count"); ok {
					e.add(prefix+"errors_total", typeCounter, "Total number of errors per error type", n, label{"err", code})
				}
			}
			return
		case "Keyspace":
			return // exposeKeyspace
		case "Sentinel":
			if exposeSentinelInfo(e, key, value) {
				return
			}
		}
		exposeField(e, key, value)
	})
	for _, cmd := range latencyOrder {
		st, ok := commands[cmd]
		if !ok {
			continue
		}
		e.summary(prefix+"latency_percentiles_usec", "A summary of latency percentile distribution per command", percentiles[cmd], int64(st[0]), st[1], label{"cmd", cmd})
	}
	var values []label
	for _, name := range infoLabels {
		values = append(values, label{name, fields[name]})
	}
	e.add(prefix+"instance_info", typeGauge, "Information about the Redis instance", 1, values...)
	if fields["role"] == "slave" {
		e.add(prefix+"slave_info", typeGauge, "Information about the Redis slave", 1,
			label{"master_host", fields["master_host"]}, label{"master_port", fields["master_port"]}, label{"read_only", fields["slave_read_only"]})
	}
	return fields
}

// exposeField exposes one field through the name tables.
func exposeField(e *exposition, key, value string) {
	if name, ok := configNames[key]; ok {
		if v, ok := parseValue(value); ok {
			e.add(prefix+name, typeGauge, name+" metric", v)
		}
	}
	typ, name := typeGauge, ""
	if n, ok := gaugeNames[key]; ok {
		name = n
	} else if n, ok := counterNames[key]; ok {
		typ, name = typeCounter, n
	} else if strings.HasPrefix(key, passThroughPrefix) {
		name = key
	} else {
		return
	}
	v, ok := parseValue(value)
	if !ok || !validName(prefix+name) {
		return
	}
	if name == "latest_fork_usec" {
		name, v = "latest_fork_seconds", v/1e6
	}
	e.add(prefix+name, typ, name+" metric", v)
}

// parseValue reads a field's value as the exporter does: ok and true are
// 1, err, fail and false 0, else a number.
func parseValue(s string) (float64, bool) {
	switch s {
	case "ok", "true":
		return 1, true
	case "err", "fail", "false":
		return 0, true
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// exposeReplication exposes the fields of INFO replication with labels;
// false for the others.
func exposeReplication(e *exposition, key, value, masterHost, masterPort string) bool {
	master := []label{{"master_host", masterHost}, {"master_port", masterPort}}
	switch key {
	case "master_link_status":
		up := 0.0
		if value == "up" {
			up = 1
		}
		e.add(prefix+"master_link_up", typeGauge, "Master link status on Redis slave", up, master...)
		return true
	case "master_last_io_seconds_ago", "master_sync_in_progress", "slave_repl_offset":
		v, _ := strconv.ParseFloat(value, 64)
		e.add(prefix+key, typeGauge, key+" metric", v, master...)
		return true
	}
	if !isReplicaLine(key) {
		return false
	}
	kv := subFields(value)
	offset, err := strconv.ParseFloat(kv["offset"], 64)
	if err != nil {
		return false
	}
	replica := []label{{"slave_ip", kv["ip"]}, {"slave_port", kv["port"]}, {"slave_state", kv["state"]}}
	e.add(prefix+"connected_slave_offset_bytes", typeGauge, "Offset of connected slave", offset, replica...)
	if lag, err := strconv.ParseFloat(kv["lag"], 64); err == nil {
		e.add(prefix+"connected_slave_lag_seconds", typeGauge, "Lag of connected slave", lag, replica...)
	}
	return true
}

// isReplicaLine: slave0, slave1, ...
func isReplicaLine(key string) bool {
	n, ok := strings.CutPrefix(key, "slave")
	if !ok || n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

// exposeCommandStat exposes one cmdstat_ line.
func exposeCommandStat(e *exposition, key, value string) (cmd string, calls, usec float64, ok bool) {
	cmd, ok = strings.CutPrefix(key, "cmdstat_")
	if !ok {
		return "", 0, 0, false
	}
	kv := subFields(value)
	calls, err1 := strconv.ParseFloat(kv["calls"], 64)
	usec, err2 := strconv.ParseFloat(kv["usec"], 64)
	if err1 != nil || err2 != nil {
		return "", 0, 0, false
	}
	l := label{"cmd", cmd}
	e.add(prefix+"commands_total", typeCounter, "Total number of calls per command", calls, l)
	e.add(prefix+"commands_duration_seconds_total", typeCounter, "Total amount of time in seconds spent per command", usec/1e6, l)
	if v, err := strconv.ParseFloat(kv["rejected_calls"], 64); err == nil {
		e.add(prefix+"commands_rejected_calls_total", typeCounter, "Total number of errors within command execution per command", v, l)
	}
	if v, err := strconv.ParseFloat(kv["failed_calls"], 64); err == nil {
		e.add(prefix+"commands_failed_calls_total", typeCounter, "Total number of errors prior command execution per command", v, l)
	}
	return cmd, calls, usec, true
}

// parsePercentiles reads "p50=1.003,p99=2.007" as quantile labels as the
// exporter writes them ("50", "99", "99.9") with their values.
func parsePercentiles(value string) []label {
	var out []label
	for part := range strings.SplitSeq(value, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || len(k) < 2 || k[0] != 'p' {
			continue
		}
		p, err := strconv.ParseFloat(k[1:], 64)
		if err != nil {
			continue
		}
		out = append(out, label{formatFloat(p), v})
	}
	return out
}

// subFields reads "a=1,b=2".
func subFields(value string) map[string]string {
	out := map[string]string{}
	for part := range strings.SplitSeq(value, ",") {
		if k, v, ok := strings.Cut(part, "="); ok {
			out[k] = v
		}
	}
	return out
}

func subField(value, name string) (float64, bool) {
	v, err := strconv.ParseFloat(subFields(value)[name], 64)
	return v, err == nil
}

// exposeKeyspace exposes the keyspace lines, and zeros for the empty
// databases (one in cluster mode, databases otherwise) so that a
// dashboard's series do not vanish when a database empties.
func exposeKeyspace(e *exposition, info string, fields map[string]string, n int) {
	seen := map[string]bool{}
	infoLines(info, func(section, key, value string) {
		if section != "Keyspace" || !strings.HasPrefix(key, "db") {
			return
		}
		kv := subFields(value)
		keys, err1 := strconv.ParseFloat(kv["keys"], 64)
		expires, err2 := strconv.ParseFloat(kv["expires"], 64)
		if err1 != nil || err2 != nil {
			return
		}
		seen[key] = true
		db := label{"db", key}
		e.add(prefix+"db_keys", typeGauge, "Total number of keys by DB", keys, db)
		e.add(prefix+"db_keys_expiring", typeGauge, "Total number of expiring keys by DB", expires, db)
		if ttl, err := strconv.ParseFloat(kv["avg_ttl"], 64); err == nil {
			e.add(prefix+"db_avg_ttl_seconds", typeGauge, "Avg TTL in seconds", ttl/1000, db)
		}
	})
	if fields["cluster_enabled"] == "1" {
		n = 1
	}
	for i := 0; i < n; i++ {
		name := "db" + strconv.Itoa(i)
		if !seen[name] {
			e.add(prefix+"db_keys", typeGauge, "Total number of keys by DB", 0, label{"db", name})
			e.add(prefix+"db_keys_expiring", typeGauge, "Total number of expiring keys by DB", 0, label{"db", name})
		}
	}
}

// exposeCluster exposes CLUSTER INFO's fields.
func exposeCluster(e *exposition, info string) {
	infoLines(info, func(_, key, value string) {
		if strings.HasPrefix(key, passThroughPrefix) {
			exposeField(e, key, value)
		}
	})
}

// exposeLatency exposes the latency histograms.
func exposeLatency(e *exposition, lat []server.CommandLatency) {
	for _, c := range lat {
		l := label{"cmd", c.Name}
		if len(c.CDFUsec) > 0 {
			bounds := make([]float64, len(c.CDFUsec))
			for i, u := range c.CDFUsec {
				bounds[i] = float64(u)
			}
			e.histogram(prefix+"commands_latencies_usec", "A histogram of latencies per command", bounds, c.CDFCount, c.Count, float64(c.Usec), l)
		}
		if len(c.Cumulative) == len(latencyBoundsSeconds) {
			e.histogram("shoal_command_latency_seconds", "Per-command latency, from the node's 1/128-precision histograms (latency-tracking)",
				latencyBoundsSeconds, c.Cumulative, c.Count, float64(c.Usec)/1e6, l)
		}
	}
}
