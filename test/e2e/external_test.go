package e2e

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// Timeouts of the external access specs.
const (
	externalTimeout = 10 * time.Minute
	// externalScaleTimeout bounds the scale out: 4096 slots took 4m40s at
	// load 23 on 2 cores with 8 slots in flight (about 15 slots a second,
	// round trips mostly), so twice that, at 32 in flight, with room.
	externalScaleTimeout = 15 * time.Minute
	externalKeys         = 1000
	// externalSlotsInFlight is spec.migration.slotsInFlight, as in the
	// Day-2 specs: on a loaded machine a slot move waits on round trips.
	externalSlotsInFlight = 32
)

// describeExternal adds the spec.externalAccess specs: a 3x1 cluster with
// a NodePort Service per pod, used from the test process (outside the pod
// network's view of things) by a go-redis ClusterClient and redis-cli -c
// that may only dial the announced node ports: reads and writes on every
// shard, through a failover and a scale out.
func describeExternal(env func() (client.Client, suiteConfig, string)) {
	Describe("Access from outside the Kubernetes cluster through node ports", Label("external"), Ordered, func() {
		x := &external{}
		BeforeAll(func(ctx SpecContext) {
			x.c, x.cfg, x.operatorNS = env()
			x.ns = createNamespace(ctx, x.c, "shoal-e2e-external-")
		})
		AfterEach(func(ctx SpecContext) {
			if CurrentSpecReport().Failed() {
				x.dumpOperatorLog(ctx)
			}
		})
		AfterAll(func() {
			if x.cc != nil {
				_ = x.cc.Close()
			}
		})
		It("announces a node port endpoint for every node", func(ctx SpecContext) { x.form(ctx) }, SpecTimeout(externalTimeout))
		It("reads and writes every shard through the node ports only, with go-redis and redis-cli -c", func(ctx SpecContext) {
			x.readWrite(ctx)
		}, SpecTimeout(externalTimeout))
		It("keeps working through a failover", func(ctx SpecContext) { x.failover(ctx) }, SpecTimeout(externalTimeout))
		It("follows MOVED during a scale out to 4 masters", func(ctx SpecContext) { x.scaleOut(ctx) }, SpecTimeout(externalScaleTimeout))
	})
}

type external struct {
	c          client.Client
	cfg        suiteConfig
	operatorNS string
	ns         string
	rc         *v1alpha1.RedisCluster
	password   string
	cc         *redis.ClusterClient

	mu sync.Mutex
	// allowed are the announced endpoints; dialed records every address
	// the client dialed.
	allowed map[string]bool
	dialed  map[string]int
}

// endpoints waits until every pod announces its endpoint and returns them.
func (x *external) endpoints(ctx context.Context, pods int) []string {
	GinkgoHelper()
	var out []string
	Eventually(func(g Gomega, ctx context.Context) {
		g.Expect(x.c.Get(ctx, client.ObjectKeyFromObject(x.rc), x.rc)).To(Succeed())
		g.Expect(x.rc.Status.ExternalEndpoints).To(HaveLen(pods))
		out = out[:0]
		for _, e := range x.rc.Status.ExternalEndpoints {
			g.Expect(e.Announced).To(BeTrue(), "%+v", e)
			g.Expect(e.Port).NotTo(BeZero(), "%+v", e)
			out = append(out, net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port))))
		}
	}).WithContext(ctx).WithTimeout(externalTimeout).WithPolling(clusterPoll).Should(Succeed())
	x.mu.Lock()
	for _, a := range out {
		x.allowed[a] = true
	}
	x.mu.Unlock()
	return out
}

func (x *external) form(ctx SpecContext) {
	x.rc = newRedisCluster(x.ns, "ext", 3, 1, true)
	x.rc.Spec.ExternalAccess = &v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalNodePort}
	x.rc.Spec.Migration.SlotsInFlight = ptr.To(int32(externalSlotsInFlight))
	x.allowed, x.dialed = map[string]bool{}, map[string]int{}
	By("applying a 3x1 RedisCluster with externalAccess NodePort")
	Expect(x.c.Create(ctx, x.rc)).To(Succeed())
	waitReady(ctx, x.c, x.rc, formTimeout)
	x.password = clusterPassword(ctx, x.c, x.rc)
	eps := x.endpoints(ctx, 6)
	fmt.Fprintf(GinkgoWriter, "external endpoints: %v\n", eps)
	AddReportEntry("external endpoints", strings.Join(eps, " "))
}

// dial refuses anything but an announced endpoint: the client must never
// need a pod address.
func (x *external) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	x.mu.Lock()
	ok := x.allowed[addr]
	x.dialed[addr]++
	x.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("test refuses to dial %s: not an announced external endpoint", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (x *external) readWrite(ctx SpecContext) {
	seed := x.rc.Status.ExternalEndpoints[0]
	seedAddr := net.JoinHostPort(seed.Host, strconv.Itoa(int(seed.Port)))
	By("connecting a go-redis ClusterClient to one node port, " + seedAddr)
	x.cc = redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: []string{seedAddr}, Password: x.password, Protocol: 2, DisableIdentity: true, Dialer: x.dial,
		DialTimeout: clusterIO, ReadTimeout: clusterIO, WriteTimeout: clusterIO, MaxRedirects: 16,
	})
	x.writeRead(ctx, "a")
	x.mu.Lock()
	for addr := range x.dialed {
		Expect(x.allowed[addr]).To(BeTrue(), "dialed %s", addr)
	}
	dialed := len(x.dialed)
	x.mu.Unlock()
	Expect(dialed).To(BeNumerically(">=", 3), "a client writing every shard dials every master")

	By("redis-cli -c on the host, through one node port, following redirections")
	path, err := exec.LookPath("redis-cli")
	Expect(err).NotTo(HaveOccurred(), "redis-cli (Debian redis-tools)")
	for _, key := range []string{"a", "b", "foo"} { // slots 15495, 3300, 12182: three shards
		out, err := exec.CommandContext(ctx, path, "-c", "-h", seed.Host, "-p", strconv.Itoa(int(seed.Port)), "--no-auth-warning", "-a", x.password,
			"SET", key, "v-"+key).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "%s", out)
		Expect(string(out)).To(ContainSubstring("OK"))
		out, err = exec.CommandContext(ctx, path, "-c", "-h", seed.Host, "-p", strconv.Itoa(int(seed.Port)), "--no-auth-warning", "-a", x.password,
			"GET", key).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "%s", out)
		Expect(string(out)).To(ContainSubstring("v-"+key), "redis-cli -c GET %s", key)
		fmt.Fprintf(GinkgoWriter, "redis-cli -c GET %s: %s", key, out)
	}
}

// writeRead writes externalKeys keys (every shard) and reads them back.
func (x *external) writeRead(ctx context.Context, round string) {
	GinkgoHelper()
	Eventually(func(g Gomega, ctx context.Context) {
		for i := range externalKeys {
			k := fmt.Sprintf("ext:%s:%d", round, i)
			g.Expect(x.cc.Set(ctx, k, k, 0).Err()).To(Succeed(), k)
		}
		for i := range externalKeys {
			k := fmt.Sprintf("ext:%s:%d", round, i)
			g.Expect(x.cc.Get(ctx, k).Val()).To(Equal(k))
		}
	}).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())
}

func (x *external) failover(ctx SpecContext) {
	var replica v1alpha1.ReplicaStatus
	Expect(x.c.Get(ctx, client.ObjectKeyFromObject(x.rc), x.rc)).To(Succeed())
	for _, sh := range x.rc.Status.Shards {
		if len(sh.Replicas) > 0 {
			replica = sh.Replicas[0]
			break
		}
	}
	Expect(replica.Pod).NotTo(BeEmpty())
	var ep string
	for _, e := range x.rc.Status.ExternalEndpoints {
		if e.Pod == replica.Pod {
			ep = net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
		}
	}
	By("CLUSTER FAILOVER on " + replica.Pod + " through its node port " + ep)
	rdb := redis.NewClient(&redis.Options{Addr: ep, Password: x.password, Protocol: 2, DisableIdentity: true})
	defer rdb.Close()
	Expect(rdb.Do(ctx, "CLUSTER", "FAILOVER").Err()).To(Succeed())
	Eventually(func() string {
		role, _ := rdb.Do(ctx, "ROLE").Slice()
		if len(role) == 0 {
			return ""
		}
		s, _ := role[0].(string)
		return s
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(clusterPoll).Should(Equal("master"))
	x.writeRead(ctx, "failover")
	x.writeRead(ctx, "a")
}

func (x *external) scaleOut(ctx SpecContext) {
	By("scaling to 4 masters while the client keeps reading and writing")
	stop := make(chan struct{})
	var errs []string
	var n int
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := fmt.Sprintf("ext:scale:%d", i%5000)
			cctx, cancel := context.WithTimeout(ctx, clusterIO)
			if err := x.cc.Set(cctx, k, k, 0).Err(); err != nil && len(errs) < 20 {
				errs = append(errs, err.Error())
			}
			cancel()
			n++
		}
	}()
	Eventually(func(g Gomega, ctx context.Context) {
		g.Expect(x.c.Get(ctx, client.ObjectKeyFromObject(x.rc), x.rc)).To(Succeed())
		x.rc.Spec.Masters = 4
		g.Expect(x.c.Update(ctx, x.rc)).To(Succeed())
	}).WithContext(ctx).WithTimeout(time.Minute).Should(Succeed())
	stopProgress := x.reportProgress(ctx)
	defer stopProgress()
	Eventually(func(g Gomega, ctx context.Context) {
		g.Expect(x.c.Get(ctx, client.ObjectKeyFromObject(x.rc), x.rc)).To(Succeed())
		// New pods' endpoints, as the operator announces them.
		x.mu.Lock()
		for _, e := range x.rc.Status.ExternalEndpoints {
			if e.Announced {
				x.allowed[net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))] = true
			}
		}
		x.mu.Unlock()
		g.Expect(isReady(x.rc)).To(BeTrue(), "conditions %+v", x.rc.Status.Conditions)
		g.Expect(x.rc.Status.ReadyMasters).To(BeEquivalentTo(4))
		g.Expect(x.rc.Status.Migration).To(BeNil())
	}).WithContext(ctx).WithTimeout(externalScaleTimeout - 3*time.Minute).WithPolling(clusterPoll).Should(Succeed())
	x.endpoints(ctx, 8)
	close(stop)
	<-done
	fmt.Fprintf(GinkgoWriter, "%d SETs during the scale out, errors (first 20): %q\n", n, errs)
	AddReportEntry("SETs through node ports during a scale out to 4 masters", fmt.Sprintf("%d, %d errors", n, len(errs)))
	x.writeRead(ctx, "a")
	x.writeRead(ctx, "scaled")
}

// reportProgress writes, every 15 s until stopped, what the scale out
// waits for: the migration's progress, the Progressing condition and the
// pods that are not Ready.
func (x *external) reportProgress(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	start := time.Now()
	go func() {
		defer GinkgoRecover()
		defer close(stopped)
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var rc v1alpha1.RedisCluster
			if err := x.c.Get(ctx, client.ObjectKeyFromObject(x.rc), &rc); err != nil {
				continue
			}
			line := fmt.Sprintf("%s:", time.Since(start).Round(time.Second))
			if m := rc.Status.Migration; m != nil {
				line += fmt.Sprintf(" migration %d/%d;", m.MovedSlots, m.TotalSlots)
			}
			if c := rc.Condition(v1alpha1.ConditionProgressing); c != nil {
				line += fmt.Sprintf(" Progressing=%s %s: %s;", c.Status, c.Reason, c.Message)
			}
			var pods corev1.PodList
			if err := x.c.List(ctx, &pods, client.InNamespace(x.ns)); err == nil {
				for _, p := range pods.Items {
					ready := false
					for _, c := range p.Status.Conditions {
						ready = ready || c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
					}
					if !ready {
						line += fmt.Sprintf(" %s not Ready (%s);", p.Name, p.Status.Phase)
					}
				}
			}
			fmt.Fprintln(GinkgoWriter, line)
		}
	}()
	return func() { close(done); <-stopped }
}

// dumpOperatorLog writes the operator's log lines about this cluster
// (slot moves, reconcile stops) and the cluster pods' last lines.
func (x *external) dumpOperatorLog(ctx context.Context) {
	if x.cfg.Client == nil {
		return
	}
	writePodLogs(ctx, x.cfg.Client, "external", []string{x.operatorNS, x.ns}, 400, 150,
		func(ns, line string) bool { return ns == x.ns || strings.Contains(line, x.ns) })
}
