package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/hack/benchkit"
	"github.com/shoal-dev/shoal/internal/s3test"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

type options struct {
	bin, s3server  string
	store          string
	keys           int
	valueSize      int
	ttlEvery       int
	masters        int
	restoreMasters []int
	compressions   []string
	rate, clients  int
	before         time.Duration
	sample         int
	verbose        bool
	cpuProfile     string
	// loadgen: this process is the load's (see runLoad), on addrs.
	loadgen bool
	addrs   string
}

func main() {
	var o options
	var comps, restoreTo string
	flag.StringVar(&o.bin, "bin", "bin/shoal-node", "node binary")
	flag.StringVar(&o.s3server, "s3server", "bin/gofakes3-v1.2.0", "S3 server binary (make s3server)")
	flag.StringVar(&o.store, "store", "s3", "where backups go: s3 (the S3 server) or dir (a directory, as a mounted volume)")
	flag.IntVar(&o.keys, "keys", 1_000_000, "keys to load")
	flag.IntVar(&o.valueSize, "value-size", 100, "value size in bytes")
	flag.IntVar(&o.ttlEvery, "ttl-every", 10, "one key in this many has an expiry (0: none)")
	flag.IntVar(&o.masters, "masters", 3, "masters of the cluster backed up")
	flag.StringVar(&restoreTo, "restore-masters", "3,5", "restore each backup into fresh clusters of these many masters")
	flag.StringVar(&comps, "compression", "None,Zstd", "backups to take, one per compression (None, Gzip, Zstd)")
	flag.IntVar(&o.rate, "rate", 2000, "GET/SET calls a second of the load during the backups")
	flag.IntVar(&o.clients, "clients", 8, "load clients")
	flag.DurationVar(&o.before, "before", 10*time.Second, "how long the load runs before the first backup (its p99 'before')")
	flag.IntVar(&o.sample, "sample", 2000, "keys whose value and expiry are checked after each restore")
	flag.BoolVar(&o.verbose, "v", false, "log progress")
	flag.StringVar(&o.cpuProfile, "restore-cpuprofile", "", "write the CPU profile of this process during the restores to this file")
	flag.BoolVar(&o.loadgen, "loadgen", false, "internal: run the load on -addrs until stdin closes, then print its samples")
	flag.StringVar(&o.addrs, "addrs", "", "internal: the cluster of -loadgen")
	flag.Parse()
	o.compressions = strings.Split(comps, ",")
	for _, s := range strings.Split(restoreTo, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "benchbackup: bad -restore-masters %q\n", restoreTo)
			os.Exit(2)
		}
		o.restoreMasters = append(o.restoreMasters, n)
	}
	runner := run
	if o.loadgen {
		runner = runLoad
	}
	if err := runner(o); err != nil {
		fmt.Fprintln(os.Stderr, "benchbackup:", err)
		os.Exit(1)
	}
}

func logf(o options, format string, args ...any) {
	if o.verbose {
		fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}
}

// dataset is what was loaded: key i's value and expiry are functions of
// i, so a restore is checked without keeping a copy.
type dataset struct {
	keys, valueSize, ttlEvery int
	// expireBase is the absolute expiry (unix ms) of key 0's kind.
	expireBase int64
}

func (d dataset) key(i int) string { return "key:" + strconv.Itoa(i) }

// value is key i's value: "<i>:" then characters of a generator seeded
// by i (6 bits of entropy a byte, so the snapshot's LZF and the backup's
// compression have real work, as with most application data).
func (d dataset) value(i int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 0, max(d.valueSize, 12))
	b = append(strconv.AppendInt(b, int64(i), 10), ':')
	r := rand.New(rand.NewPCG(uint64(i), 0x5ea1))
	for len(b) < d.valueSize {
		b = append(b, alphabet[r.IntN(len(alphabet))])
	}
	return string(b)
}

// expireAt is key i's absolute expiry in unix ms, 0 for none: an hour
// from the load, spread over a second.
func (d dataset) expireAt(i int) int64 {
	if d.ttlEvery <= 0 || i%d.ttlEvery != 0 {
		return 0
	}
	return d.expireBase + int64(i%1000)
}

func (d dataset) load(ctx context.Context, cc *redis.ClusterClient) error {
	return benchkit.Load(ctx, cc, d.keys, func(ctx context.Context, p redis.Pipeliner, i int) {
		if at := d.expireAt(i); at > 0 {
			p.Do(ctx, "SET", d.key(i), d.value(i), "PXAT", at)
		} else {
			p.Set(ctx, d.key(i), d.value(i), 0)
		}
	})
}

// check compares the keys of a restored cluster with the dataset: the
// count, and the value and expiry of sample keys.
func (d dataset) check(ctx context.Context, addrs []string, sample int) error {
	n, err := benchkit.DBSize(ctx, addrs)
	if err != nil {
		return err
	}
	if n != int64(d.keys) {
		return fmt.Errorf("%d keys restored, want %d", n, d.keys)
	}
	cc := newClusterClient(addrs)
	defer cc.Close()
	for range sample {
		i := rand.IntN(d.keys)
		v, err := cc.Get(ctx, d.key(i)).Result()
		if err != nil || v != d.value(i) {
			return fmt.Errorf("key %s: %q (%v), want %q", d.key(i), v, err, d.value(i))
		}
		at, err := cc.Do(ctx, "PEXPIRETIME", d.key(i)).Int64()
		want := d.expireAt(i)
		if want == 0 {
			want = -1
		}
		if err != nil || at != want {
			return fmt.Errorf("key %s: PEXPIRETIME %d (%v), want %d", d.key(i), at, err, want)
		}
	}
	return nil
}

func newClusterClient(addrs []string) *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRedirects: 16, ReadTimeout: 10 * time.Second, PoolSize: 32})
}

// backupResult is one backup's figures.
type backupResult struct {
	compression       string
	folder            string
	format            backup.Format
	shards            []backup.ManifestShard
	keys              []string
	rdbBytes, objSize int64
	start             time.Time
	took              time.Duration
	load              benchkit.PhaseStats
}

// restoreResult is one restore's.
type restoreResult struct {
	compression    string
	masters        int
	keys           int64
	took, verified time.Duration
	rdbBytes       int64
	// nodeCPU and ownCPU are the CPU seconds the masters and this
	// process (reading, decoding, sending) used for the restore.
	nodeCPU, ownCPU float64
}

func run(o options) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "benchbackup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d := dataset{keys: o.keys, valueSize: o.valueSize, ttlEvery: o.ttlEvery, expireBase: time.Now().Add(time.Hour).UnixMilli()}

	var store backup.Objects
	switch o.store {
	case "s3":
		srv, err := s3test.StartProcess(o.s3server, "127.0.0.1", dir, "bench")
		if err != nil {
			return fmt.Errorf("S3 server: %w", err)
		}
		defer srv.Stop()
		if store, err = backup.NewStore(backup.StoreConfig{Endpoint: srv.Endpoint, Bucket: "bench", Insecure: true, AccessKeyID: "a", SecretAccessKey: "s"}); err != nil {
			return err
		}
	case "dir":
		if store, err = backup.NewDirStore(dir + "/objects"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown -store %q", o.store)
	}

	nodes, err := benchkit.StartNodes(o.bin, dir+"/src", o.masters, "")
	defer benchkit.StopNodes(nodes)
	if err != nil {
		return err
	}
	if err := benchkit.Form(ctx, nodes, o.masters); err != nil {
		return fmt.Errorf("forming: %w", err)
	}
	addrs := benchkit.Addrs(nodes)
	cc := newClusterClient(addrs)
	defer cc.Close()
	t0 := time.Now()
	if err := d.load(ctx, cc); err != nil {
		return fmt.Errorf("loading: %w", err)
	}
	logf(o, "loaded %d keys in %s", o.keys, time.Since(t0).Round(time.Millisecond))

	// The load runs in a process of its own, as clients do, so that the
	// backup's compression and hashing in this one do not delay it.
	load, err := startLoad(o, addrs)
	if err != nil {
		return err
	}
	beforeFrom := time.Now().Add(time.Second) // the clients' connections are made
	time.Sleep(o.before + time.Second)
	var backups []backupResult
	for _, c := range o.compressions {
		b, err := takeBackup(ctx, o, store, addrs, c)
		if err != nil {
			_, _ = load.Stop()
			return fmt.Errorf("backup %s: %w", c, err)
		}
		logf(o, "backup %s: %d RDB bytes, %d object bytes in %s", c, b.rdbBytes, b.objSize, b.took.Round(time.Millisecond))
		backups = append(backups, b)
	}
	for _, l := range benchkit.LogLines(nodes, "Snapshot for a replica") {
		logf(o, "%s", l)
	}
	samples, err := load.Stop()
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	before := benchkit.StatsOf(samples, beforeFrom, backups[0].start)
	for i, b := range backups {
		backups[i].load = benchkit.StatsOf(samples, b.start, b.start.Add(b.took))
	}
	benchkit.StopNodes(nodes)
	nodes = nil

	if o.cpuProfile != "" {
		stop, err := benchkit.StartCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	var restores []restoreResult
	for _, b := range backups {
		for _, m := range o.restoreMasters {
			r, err := restore(ctx, o, d, store, b, m, dir)
			if err != nil {
				return fmt.Errorf("restore of the %s backup into %d masters: %w", b.compression, m, err)
			}
			restores = append(restores, r)
		}
	}
	report(o, before, backups, restores)
	return nil
}

// startLoad starts this program with -loadgen on addrs.
func startLoad(o options, addrs []string) (*benchkit.LoadProcess, error) {
	return benchkit.StartLoadProcess("-loadgen", "-addrs", strings.Join(addrs, ","), "-keys", strconv.Itoa(o.keys),
		"-value-size", strconv.Itoa(o.valueSize), "-rate", strconv.Itoa(o.rate), "-clients", strconv.Itoa(o.clients))
}

// runLoad is the load's process (benchkit.ServeLoad): GET, or SET of the
// same value keeping the expiry, of a random key, so the data a restore
// is checked against stays the same while the nodes take writes.
func runLoad(o options) error {
	d := dataset{keys: o.keys, valueSize: o.valueSize}
	cc := newClusterClient(strings.Split(o.addrs, ","))
	defer cc.Close()
	lg := &benchkit.LoadGen{Clients: o.clients, Rate: o.rate, Op: func(ctx context.Context, _ int) error {
		i := rand.IntN(o.keys)
		if rand.IntN(2) == 0 {
			return cc.Get(ctx, d.key(i)).Err()
		}
		return cc.Do(ctx, "SET", d.key(i), d.value(i), "KEEPTTL").Err()
	}}
	return benchkit.ServeLoad(lg)
}

// takeBackup takes one backup as the RedisBackup reconciler does: the
// sources chosen from the members' views, every shard streamed at once,
// the slot map checked again afterwards.
func takeBackup(ctx context.Context, o options, store backup.Objects, addrs []string, compression string) (backupResult, error) {
	res := backupResult{compression: compression, format: backup.Format{Compression: compression}}
	dial := clusteradmin.NewDialer(30 * time.Second)
	members, err := benchkit.Members(ctx, addrs, dial)
	if err != nil {
		return res, err
	}
	sources, why := backup.ChooseSources(members, false)
	if why != "" {
		return res, errors.New(why)
	}
	res.folder = backup.Folder("bench", "default", "src", strings.ToLower(compression))
	res.start = time.Now()
	objs, err := backup.UploadShards(ctx, store, res.folder, res.format, sources, backup.Options{Timeout: 30 * time.Second})
	res.took = time.Since(res.start)
	if err != nil {
		return res, err
	}
	after, err := benchkit.Members(ctx, addrs, dial)
	if err != nil {
		return res, err
	}
	now, why := backup.ChooseSources(after, false)
	if why == "" {
		why = backup.SlotMapChanged(sources, now)
	}
	if why != "" {
		return res, errors.New("the cluster changed during the backup: " + why)
	}
	for i, ob := range objs {
		res.rdbBytes += ob.Size
		res.objSize += ob.ObjectSize
		res.keys = append(res.keys, ob.Key)
		res.shards = append(res.shards, backup.ManifestShard{Shard: sources[i].Shard, Object: ob.Key[len(res.folder):],
			Size: ob.ObjectSize, SHA256: ob.ObjectSHA256, RDBSize: ob.Size, RDBSHA256: ob.SHA256})
	}
	return res, nil
}

// restore loads backup b into a fresh cluster of masters masters as the
// RedisCluster reconciler does: shard after shard, each object verified
// against its checksum, then loaded into the master of each key's slot.
func restore(ctx context.Context, o options, d dataset, store backup.Objects, b backupResult, masters int, dir string) (restoreResult, error) {
	res := restoreResult{compression: b.compression, masters: masters, rdbBytes: b.rdbBytes}
	nodes, err := benchkit.StartNodes(o.bin, fmt.Sprintf("%s/restore-%s-%d", dir, b.compression, masters), masters, "")
	defer benchkit.StopNodes(nodes)
	if err != nil {
		return res, err
	}
	if err := benchkit.Form(ctx, nodes, masters); err != nil {
		return res, fmt.Errorf("forming: %w", err)
	}
	addrs := benchkit.Addrs(nodes)
	members, err := benchkit.Members(ctx, addrs, clusteradmin.NewDialer(30*time.Second))
	if err != nil {
		return res, err
	}
	var tm []nodeadmin.TargetMaster
	for _, m := range members {
		if me, ok := m.View.Myself(); ok && me.IsMaster() && len(me.Slots) > 0 {
			tm = append(tm, nodeadmin.TargetMaster{Shard: m.Shard, Addr: m.Addr(), Slots: me.Slots})
		}
	}
	target, err := nodeadmin.NewImportTarget(tm, nodeadmin.SourceAuth{Timeout: 30 * time.Second})
	if err != nil {
		return res, err
	}
	defer target.Close()
	cpu0, err := benchkit.CPUSeconds(ctx, addrs)
	if err != nil {
		return res, err
	}
	own0 := benchkit.OwnCPU()
	start := time.Now()
	for i, shard := range b.shards {
		key := b.keys[i]
		vs := time.Now()
		if err := backup.VerifyObject(ctx, store, key, b.format, shard.Size, shard.SHA256); err != nil {
			return res, err
		}
		res.verified += time.Since(vs)
		n, err := backup.LoadShard(ctx, store, key, b.format, shard, false, target)
		if err != nil {
			return res, fmt.Errorf("shard %d: %w", shard.Shard, err)
		}
		res.keys += n
	}
	res.took = time.Since(start)
	res.ownCPU = (benchkit.OwnCPU() - own0).Seconds()
	cpu1, err := benchkit.CPUSeconds(ctx, addrs)
	if err != nil {
		return res, err
	}
	res.nodeCPU = cpu1 - cpu0
	logf(o, "restore %s -> %d masters: %d keys in %s (verify %s)", b.compression, masters, res.keys, res.took.Round(time.Millisecond), res.verified.Round(time.Millisecond))
	if err := d.check(ctx, addrs, o.sample); err != nil {
		return res, fmt.Errorf("check: %w", err)
	}
	return res, nil
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func mbps(bytes int64, d time.Duration) float64 { return float64(bytes) / 1e6 / d.Seconds() }

func report(o options, before benchkit.PhaseStats, backups []backupResult, restores []restoreResult) {
	fmt.Printf("\nbackup of %d masters, %d keys of %d bytes (1 in %d with an expiry), to %s; load %d calls/s (%d clients, GET/SET)\n",
		o.masters, o.keys, o.valueSize, o.ttlEvery, o.store, o.rate, o.clients)
	fmt.Printf("%-12s %8s %10s %9s %7s %11s %11s %7s %11s %11s %12s\n", "compression", "RDB MB", "object MB", "time", "MB/s",
		"p99 before", "p99 during", "ratio", "p50 before", "p50 during", "errors")
	for _, b := range backups {
		fmt.Printf("%-12s %8.1f %10.1f %9s %7.1f %11s %11s %6.2fx %11s %11s %5d/%-6d\n", b.compression, float64(b.rdbBytes)/1e6, float64(b.objSize)/1e6,
			b.took.Round(time.Millisecond), mbps(b.rdbBytes, b.took), before.P99, b.load.P99, ratio(b.load.P99, before.P99),
			before.P50, b.load.P50, b.load.Errors, b.load.Ops)
		if b.load.FirstErr != "" {
			fmt.Printf("  first load error: %s\n", b.load.FirstErr)
		}
	}
	fmt.Printf("load before: %d calls at %.0f/s; during: ", before.Ops, before.Rate)
	for _, b := range backups {
		fmt.Printf("%s %.0f/s ", b.compression, b.load.Rate)
	}
	fmt.Println()
	fmt.Printf("\nrestore (shard after shard: verify the object, then RESTORE ... ABSTTL pipelined to each key's master); keys and sample checked\n")
	fmt.Printf("%-12s %8s %10s %10s %10s %9s %10s %10s %10s\n", "compression", "masters", "keys", "time", "verify", "MB/s", "keys/s", "node CPU", "own CPU")
	for _, r := range restores {
		fmt.Printf("%-12s %8d %10d %10s %10s %9.1f %10.0f %9.1fs %9.1fs\n", r.compression, r.masters, r.keys, r.took.Round(time.Millisecond),
			r.verified.Round(time.Millisecond), mbps(r.rdbBytes, r.took), float64(r.keys)/r.took.Seconds(), r.nodeCPU, r.ownCPU)
	}
}
