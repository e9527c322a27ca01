package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// Timeouts of the Day-2 specs: generous bounds for a loaded 2-core machine.
const (
	day2StageTimeout  = 10 * time.Minute
	day2SettleTimeout = 9 * time.Minute
	day2VerifyTimeout = 3 * time.Minute
	day2Poll          = 500 * time.Millisecond
	// readyGrace is how long Ready may stay True after a node stopped
	// reporting cluster_state:ok before the status counts as lying: the
	// operator learns of it by a watch or a requeue, not at once.
	readyGrace = 30 * time.Second
	// restartMaxErrors bounds the client-visible errors while master pods
	// restart (a master pod deleted, a rolling update). The slots go over to
	// a replica by a coordinated failover first, but a client whose slot map
	// predates it and next tries the old master once its pod is gone gets a
	// dial error: go-redis reloads its map on MOVED/ASK, or when it is 10s
	// old, not on a connection error. Measured: single digits per restart.
	restartMaxErrors = 100
	// slotSpreadPercent is how far from an even share a master's slot count
	// may be after a scale (the planner's threshold is 2%).
	slotSpreadPercent = 5
	day2SlotsInFlight = 32
	// liveConfigKey is changed live (CONFIG SET), without a restart.
	liveConfigKey   = "slowlog-max-len"
	liveConfigValue = "256"
	// day2Transient is reported when seen during a stage (settle checks it
	// is gone at the end): a planned change alone should not show it, but on
	// a starved machine a node may answer CLUSTERDOWN for a moment (seen: a
	// slot move's target during a scale out) and the operator says so.
	day2Transient = "Degraded=True"
	// maxMessages is how many distinct messages of a condition a sampler
	// keeps.
	maxMessages = 200
)

// describeDay2 adds the Day-2 specs: one RedisCluster on PVCs changed in
// sequence under continuous load from a checking client. env is read once
// the enclosing container's BeforeAll ran (it installs the operator).
func describeDay2(env func() (client.Client, suiteConfig, string)) {
	Describe("Day-2 operations under load on a RedisCluster on persistent volumes", Label("day2"), Ordered, func() {
		d := &day2{}
		BeforeAll(func(ctx SpecContext) {
			d.c, d.cfg, d.operatorNS = env()
			d.ns = createNamespace(ctx, d.c, "shoal-e2e-day2-")
		})
		// Evidence while it still exists: when a stage ended with new stale
		// or lost reads, the logs of the pods that saw it (pods and the
		// operator are replaced by later stages).
		seen, jumps := 0, 0
		AfterEach(func(ctx SpecContext) {
			if d.load == nil {
				return
			}
			v, j := d.load.Violations(), d.load.CounterJumps()
			if len(v) > seen || len(j) > jumps {
				seen, jumps = len(v), len(j)
				fmt.Fprintf(GinkgoWriter, "INCR replies beyond the acknowledgements: %q\n", j)
				d.dumpLogs(ctx)
			}
		})
		AfterAll(func() {
			if d.load != nil {
				d.load.close()
				fmt.Fprintf(GinkgoWriter, "client-visible outcomes by stage:\n%s", d.load.report())
			}
		})

		It("forms a 3x1 cluster and starts the checking load", func(ctx SpecContext) { d.formAndLoad(ctx) },
			SpecTimeout(formTimeout+time.Minute))
		It("scales masters 3 -> 5 with live slot migration", func(ctx SpecContext) {
			d.scaleMasters(ctx, "masters 3 -> 5", 5, 3)
		}, SpecTimeout(day2StageTimeout))
		It("scales masters 5 -> 3, draining and forgetting the leaving shards", func(ctx SpecContext) {
			d.scaleMasters(ctx, "masters 5 -> 3", 3, 5)
		}, SpecTimeout(day2StageTimeout))
		It("scales replicas 1 -> 2", func(ctx SpecContext) { d.scaleReplicas(ctx, "replicas 1 -> 2", 2) },
			SpecTimeout(day2StageTimeout))
		It("scales replicas 2 -> 1", func(ctx SpecContext) { d.scaleReplicas(ctx, "replicas 2 -> 1", 1) },
			SpecTimeout(day2StageTimeout))
		It("rolls an image change shard by shard", func(ctx SpecContext) { d.rollImage(ctx) },
			SpecTimeout(day2StageTimeout+2*time.Minute))
		It("applies a live config change with CONFIG SET, restarting no pod", func(ctx SpecContext) { d.liveConfig(ctx) },
			SpecTimeout(day2StageTimeout))
		It("switches a shard's master over to a replica named by annotation", func(ctx SpecContext) { d.switchover(ctx) },
			SpecTimeout(day2StageTimeout))
		It("survives the deletion of a master pod", func(ctx SpecContext) { d.deleteMaster(ctx) },
			SpecTimeout(day2StageTimeout))
		It("resumes a slot migration after the operator pod is deleted in the middle of it", func(ctx SpecContext) {
			d.restartOperatorMidMigration(ctx)
		}, SpecTimeout(day2StageTimeout+2*time.Minute))
		It("kept every acknowledged write and counted every acknowledged increment", func(ctx SpecContext) {
			d.verifyLoad(ctx)
		}, SpecTimeout(day2VerifyTimeout))
		It("deletes the RedisCluster with its pods and claims", func(ctx SpecContext) { d.deleteCluster(ctx) },
			SpecTimeout(objectsGoneTimeout+30*time.Second))
	})
}

// day2 is the state the ordered Day-2 specs share.
// evidenceLine matches the log lines that tell how a write could be lost:
// failovers, replication and syncs, role and epoch changes, pod operations.
func evidenceLine(line string) bool {
	l := strings.ToLower(line)
	for _, k := range []string{"failover", "sync", "master", "replica", "paus", "epoch", "offset", "delet", "restart", "rollout", "rolling",
		"aof", "rewrit", "loaded", "saving", "saved", "snapshot", "continu", "shutdown", "migrat"} {
		if strings.Contains(l, k) {
			return true
		}
	}
	return false
}

// dumpLogs writes the evidence lines of the logs of every pod of the
// cluster and of the operator to the spec's output.
func (d *day2) dumpLogs(ctx context.Context) {
	writePodLogs(ctx, d.cfg.Client, "evidence", []string{d.ns, d.operatorNS}, 3000, 400,
		func(_, line string) bool { return evidenceLine(line) })
}

// writePodLogs writes to the spec's output, for every pod of namespaces,
// the last max lines that keep accepts of the last tail lines of its log.
func writePodLogs(ctx context.Context, cs kubernetes.Interface, label string, namespaces []string, tail int64, max int, keep func(ns, line string) bool) {
	for _, ns := range namespaces {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			fmt.Fprintf(GinkgoWriter, "%s: listing pods of %s: %v\n", label, ns, err)
			continue
		}
		for _, p := range pods.Items {
			raw, err := cs.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{TailLines: ptr.To(tail)}).DoRaw(ctx)
			if err != nil {
				fmt.Fprintf(GinkgoWriter, "%s: logs of %s/%s: %v\n", label, ns, p.Name, err)
				continue
			}
			var kept []string
			for _, line := range strings.Split(string(raw), "\n") {
				if keep(ns, line) {
					kept = append(kept, line)
				}
			}
			if len(kept) > max {
				kept = kept[len(kept)-max:]
			}
			fmt.Fprintf(GinkgoWriter, "%s: %s/%s (%d lines):\n%s\n", label, ns, p.Name, len(kept), strings.Join(kept, "\n"))
		}
	}
}

type day2 struct {
	c          client.Client
	cfg        suiteConfig
	ns         string
	operatorNS string
	rc         *v1alpha1.RedisCluster
	password   string
	load       *loadChecker
}

func (d *day2) formAndLoad(ctx SpecContext) {
	d.rc = newRedisCluster(d.ns, "day2", 3, 1, false)
	// More slots in flight than the default 8: on a loaded 2-core machine a
	// slot move waits mostly on round trips, so this shortens the spec.
	d.rc.Spec.Migration.SlotsInFlight = ptr.To(int32(day2SlotsInFlight))
	By("applying a RedisCluster of 3 masters with 1 replica each on PVCs")
	start := time.Now()
	Expect(d.c.Create(ctx, d.rc)).To(Succeed())
	waitReady(ctx, d.c, d.rc, formTimeout)
	d.password = clusterPassword(ctx, d.c, d.rc)
	d.settle(ctx, 3, 1)
	reportStage("form 3x1", time.Since(start), nil)

	By(fmt.Sprintf("starting the checking load: %d workers, %d keys each, %d shared counters", loadWorkers, loadKeysPerWorker, loadCounters))
	var ips []string
	for _, p := range nodePods(ctx, d.c, d.rc) {
		ips = append(ips, p.Status.PodIP)
	}
	d.load = newLoadChecker(podAddrs(ips, builders.RedisPort), d.password)
	d.load.start("steady 3x1")
	// Every worker has written all its keys once before the first change.
	Eventually(func() int64 { return d.load.stage.Load().ops.Load() }).WithContext(ctx).
		WithTimeout(2 * time.Minute).WithPolling(day2Poll).
		Should(BeNumerically(">=", 3*loadWorkers*loadKeysPerWorker))
	Expect(d.load.stage.Load().errors()).To(BeZero(), "errors of a steady cluster:\n%s", d.load.report())
}

// scaleMasters changes spec.masters and waits until the slots moved.
func (d *day2) scaleMasters(ctx SpecContext, stage string, to, from int) {
	stats := d.load.beginStage(stage)
	s := d.startSampler(ctx)
	By(fmt.Sprintf("setting spec.masters %d -> %d", from, to))
	d.update(ctx, func(rc *v1alpha1.RedisCluster) { rc.Spec.Masters = int32(to) })
	d.settle(ctx, to, 1)
	obs := s.stop()
	d.expectSeen(obs, "Rebalancing=True", "Progressing=True")
	Expect(obs.seen["Rebalancing=True"]).To(ContainElement(MatchRegexp(`moved \d+ of \d+ slots \(\d+%\)`)), "Rebalancing gives a percentage")
	d.expectSpread(ctx, to)
	if to < from {
		By("checking the drained shards' StatefulSets are gone")
		for i := to; i < from; i++ {
			err := d.c.Get(ctx, client.ObjectKey{Namespace: d.ns, Name: builders.ShardName(d.rc, i)}, &appsv1.StatefulSet{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "StatefulSet of shard %d: %v", i, err)
		}
	}
	reportStage(stage, time.Since(stats.start), stats)
	Expect(stats.errors()).To(BeZero(), "client-visible errors while slots moved:\n%s", stats)
}

// scaleReplicas changes spec.replicasPerMaster and waits until every master
// has that many linked replicas.
func (d *day2) scaleReplicas(ctx SpecContext, stage string, to int) {
	stats := d.load.beginStage(stage)
	s := d.startSampler(ctx)
	By(fmt.Sprintf("setting spec.replicasPerMaster to %d", to))
	d.update(ctx, func(rc *v1alpha1.RedisCluster) { rc.Spec.ReplicasPerMaster = int32(to) })
	d.settle(ctx, int(d.rc.Spec.Masters), to)
	obs := s.stop()
	d.expectSeen(obs, "Progressing=True")
	reportStage(stage, time.Since(stats.start), stats)
	Expect(stats.errors()).To(BeZero(), "client-visible errors while replicas changed:\n%s", stats)
}

// rollImage changes spec.image to a second name of the node image:
// the same image under its fully qualified reference (docker.io/ added to
// a short Docker Hub name) is another pod template, so every pod restarts,
// and the container runtime already has it under that name (kind and
// containerd store short names fully qualified), so nothing is pulled.
func (d *day2) rollImage(ctx SpecContext) {
	next := qualifiedImage(d.cfg.NodeImage)
	Expect(next).NotTo(Equal(d.cfg.NodeImage), "no second name for %s", d.cfg.NodeImage)
	stats := d.load.beginStage("rolling image change")
	before := d.podUIDs(ctx)
	ids := nodeIDs(ctx, d.c, d.rc, d.password)
	s := d.startSampler(ctx)
	By("setting spec.image " + d.cfg.NodeImage + " -> " + next)
	d.update(ctx, func(rc *v1alpha1.RedisCluster) { rc.Spec.Image = next })
	d.settle(ctx, int(d.rc.Spec.Masters), int(d.rc.Spec.ReplicasPerMaster))
	obs := s.stop()
	d.expectSeen(obs, "RollingUpdate=True", "Progressing=True")

	By("checking every pod was restarted on the new template and kept its node ID")
	for _, p := range nodePods(ctx, d.c, d.rc) {
		Expect(p.UID).NotTo(Equal(before[p.Name]), "pod %s was not restarted", p.Name)
		Expect(p.Spec.Containers[0].Image).To(Equal(next), "pod %s", p.Name)
		owner := metav1.GetControllerOf(&p)
		Expect(owner).NotTo(BeNil(), "pod %s has no controller", p.Name)
		var sts appsv1.StatefulSet
		Expect(d.c.Get(ctx, client.ObjectKey{Namespace: d.ns, Name: owner.Name}, &sts)).To(Succeed(), "pod %s", p.Name)
		Expect(p.Annotations[builders.AnnotationPodTemplateHash]).To(Equal(sts.Spec.Template.Annotations[builders.AnnotationPodTemplateHash]), "pod %s", p.Name)
	}
	Expect(nodeIDs(ctx, d.c, d.rc, d.password)).To(Equal(ids), "node IDs by pod")
	reportStage("rolling image change", time.Since(stats.start), stats)
	Expect(stats.errors()).To(BeNumerically("<=", restartMaxErrors), "client-visible errors during the rolling update:\n%s", stats)
}

// liveConfig changes a key that nodes take with CONFIG SET and checks every
// node has it while every pod kept running.
func (d *day2) liveConfig(ctx SpecContext) {
	stats := d.load.beginStage("live config")
	before := d.podUIDs(ctx)
	s := d.startSampler(ctx)
	By("setting spec.config " + liveConfigKey + " " + liveConfigValue)
	d.update(ctx, func(rc *v1alpha1.RedisCluster) {
		if rc.Spec.Config == nil {
			rc.Spec.Config = map[string]v1alpha1.ConfigValue{}
		}
		rc.Spec.Config[liveConfigKey] = liveConfigValue
	})
	Eventually(func(g Gomega, ctx context.Context) {
		pods, err := nodePodsOrErr(ctx, d.c, d.rc)
		g.Expect(err).NotTo(HaveOccurred())
		for _, p := range pods {
			rdb := nodeClient(p.Status.PodIP, d.password)
			got, err := rdb.ConfigGet(ctx, liveConfigKey).Result()
			rdb.Close()
			g.Expect(err).NotTo(HaveOccurred(), "CONFIG GET on %s", p.Name)
			g.Expect(got).To(HaveKeyWithValue(liveConfigKey, liveConfigValue), "pod %s", p.Name)
		}
	}).WithContext(ctx).WithTimeout(day2SettleTimeout).WithPolling(time.Second).Should(Succeed())
	d.settle(ctx, int(d.rc.Spec.Masters), int(d.rc.Spec.ReplicasPerMaster))
	obs := s.stop()
	d.expectSeen(obs)
	Expect(d.podUIDs(ctx)).To(Equal(before), "pods restarted for a live config key")
	reportStage("live config", time.Since(stats.start), stats)
	Expect(stats.errors()).To(BeZero(), "client-visible errors:\n%s", stats)
}

// switchover asks, by annotation, for a replica of the last shard to become
// its master.
func (d *day2) switchover(ctx SpecContext) {
	stats := d.load.beginStage("switchover")
	Expect(d.c.Get(ctx, client.ObjectKeyFromObject(d.rc), d.rc)).To(Succeed())
	shard := d.rc.Status.Shards[len(d.rc.Status.Shards)-1]
	Expect(shard.Master).NotTo(BeNil())
	Expect(shard.Replicas).NotTo(BeEmpty())
	old, heir := shard.Master.Pod, shard.Replicas[0].Pod
	s := d.startSampler(ctx)
	By("annotating " + v1alpha1.SwitchoverAnnotation + "=" + heir)
	d.update(ctx, func(rc *v1alpha1.RedisCluster) {
		if rc.Annotations == nil {
			rc.Annotations = map[string]string{}
		}
		rc.Annotations[v1alpha1.SwitchoverAnnotation] = heir
	})
	Eventually(func(g Gomega, ctx context.Context) {
		var rc v1alpha1.RedisCluster
		g.Expect(d.c.Get(ctx, client.ObjectKeyFromObject(d.rc), &rc)).To(Succeed())
		g.Expect(rc.Status.LastSwitchover).NotTo(BeNil())
		g.Expect(rc.Status.LastSwitchover.Pod).To(Equal(heir))
		g.Expect(rc.Status.LastSwitchover.Phase).To(Equal("Succeeded"), "%+v", rc.Status.LastSwitchover)
	}).WithContext(ctx).WithTimeout(day2SettleTimeout).WithPolling(day2Poll).Should(Succeed())
	By("removing the annotation: a done switchover is not undone")
	d.update(ctx, func(rc *v1alpha1.RedisCluster) { delete(rc.Annotations, v1alpha1.SwitchoverAnnotation) })
	d.settle(ctx, int(d.rc.Spec.Masters), int(d.rc.Spec.ReplicasPerMaster))
	obs := s.stop()
	d.expectSeen(obs)
	roles := nodeRoles(ctx, d.c, d.rc, d.password)
	Expect(roles[heir]).To(Equal("master"), "roles by pod %v", roles)
	Expect(roles[old]).To(Equal("slave"), "roles by pod %v", roles)
	reportStage("switchover", time.Since(stats.start), stats)
	Expect(stats.errors()).To(BeZero(), "client-visible errors:\n%s", stats)
}

// qualifiedImage is image with the registry Docker Hub names implicitly
// (docker.io), or image itself when it names a registry already.
func qualifiedImage(image string) string {
	first, _, found := strings.Cut(image, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return image
	}
	if !found {
		return "docker.io/library/" + image
	}
	return "docker.io/" + image
}

func (d *day2) deleteMaster(ctx SpecContext) {
	stats := d.load.beginStage("master pod deleted")
	Expect(d.c.Get(ctx, client.ObjectKeyFromObject(d.rc), d.rc)).To(Succeed())
	Expect(d.rc.Status.Shards).To(HaveLen(int(d.rc.Spec.Masters)))
	shard := d.rc.Status.Shards[1]
	Expect(shard.Master).NotTo(BeNil())
	Expect(shard.Replicas).NotTo(BeEmpty())
	victim, heir := shard.Master.Pod, shard.Replicas[0].Pod
	ids := nodeIDs(ctx, d.c, d.rc, d.password)
	var pod corev1.Pod
	Expect(d.c.Get(ctx, types.NamespacedName{Namespace: d.ns, Name: victim}, &pod)).To(Succeed())
	s := d.startSampler(ctx)
	By("deleting master pod " + victim + " (replica " + heir + ")")
	Expect(d.c.Delete(ctx, &pod)).To(Succeed())
	Eventually(func(g Gomega, ctx context.Context) {
		var p corev1.Pod
		g.Expect(d.c.Get(ctx, types.NamespacedName{Namespace: d.ns, Name: victim}, &p)).To(Succeed())
		g.Expect(p.UID).NotTo(Equal(pod.UID), "the old pod is still there")
		g.Expect(podIsReady(&p)).To(BeTrue(), "pod %s: %s", victim, podSummary(&p))
	}).WithContext(ctx).WithTimeout(recoverTimeout).WithPolling(day2Poll).Should(Succeed())
	d.settle(ctx, int(d.rc.Spec.Masters), int(d.rc.Spec.ReplicasPerMaster))
	obs := s.stop()
	d.expectSeen(obs, "Ready=False")
	Expect(nodeIDs(ctx, d.c, d.rc, d.password)).To(Equal(ids), "node IDs by pod")
	roles := nodeRoles(ctx, d.c, d.rc, d.password)
	Expect(roles[heir]).To(Equal("master"), "roles by pod %v", roles)
	Expect(roles[victim]).To(Equal("slave"), "roles by pod %v", roles)
	reportStage("master pod deleted", time.Since(stats.start), stats)
	Expect(stats.errors()).To(BeNumerically("<=", restartMaxErrors), "client-visible errors:\n%s", stats)
}

// restartOperatorMidMigration scales 3 -> 4, deletes the operator pod in
// the first batch of moves, and waits until the new operator finishes the
// same plan.
func (d *day2) restartOperatorMidMigration(ctx SpecContext) {
	stats := d.load.beginStage("masters 3 -> 4, operator deleted")
	s := d.startSampler(ctx)
	oldOperator := d.operatorPod(ctx)
	// The operator writes the plan, then its progress after each 3 s batch
	// of moves. At 32 slots in flight the first batch moved 3860 of the
	// 4096 slots (session 18), then all of them (session 19), and one in
	// flight still 3176: waiting for progress left no middle to delete the
	// operator in. So the operator is deleted once the plan is written, in
	// its first batch (the moved slots not yet recorded), one slot at a
	// time so that the batch is seconds long.
	By("setting spec.masters 3 -> 4, one slot in flight")
	d.update(ctx, func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Masters = 4
		rc.Spec.Migration.SlotsInFlight = ptr.To(int32(1))
	})
	By("waiting until the migration is planned")
	var mig v1alpha1.MigrationStatus
	Eventually(func(g Gomega, ctx context.Context) {
		var rc v1alpha1.RedisCluster
		g.Expect(d.c.Get(ctx, client.ObjectKeyFromObject(d.rc), &rc)).To(Succeed())
		g.Expect(rc.Status.Migration).NotTo(BeNil())
		mig = *rc.Status.Migration.DeepCopy()
	}).WithContext(ctx).WithTimeout(day2SettleTimeout).WithPolling(200 * time.Millisecond).Should(Succeed())
	Expect(mig.MovedSlots).To(BeNumerically("<", mig.TotalSlots), "the migration ended before the operator could be deleted")
	By(fmt.Sprintf("deleting operator pod %s at %d of %d slots", oldOperator.Name, mig.MovedSlots, mig.TotalSlots))
	Expect(d.c.Delete(ctx, &oldOperator)).To(Succeed())

	By("waiting for the Deployment's new operator pod")
	Eventually(func(g Gomega, ctx context.Context) {
		p, err := d.operatorPodOrErr(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(p.UID).NotTo(Equal(oldOperator.UID))
		g.Expect(podIsReady(&p)).To(BeTrue(), "operator pod %s: %s", p.Name, podSummary(&p))
	}).WithContext(ctx).WithTimeout(operatorAvailableTimeout).WithPolling(day2Poll).Should(Succeed())

	By("waiting until the new operator moves slots of the same plan")
	Eventually(func(g Gomega, ctx context.Context) {
		var rc v1alpha1.RedisCluster
		g.Expect(d.c.Get(ctx, client.ObjectKeyFromObject(d.rc), &rc)).To(Succeed())
		if rc.Status.Migration == nil {
			return // finished
		}
		g.Expect(rc.Status.Migration.StartTime).To(Equal(mig.StartTime), "a new plan replaced the one in progress")
		g.Expect(rc.Status.Migration.MovedSlots).To(BeNumerically(">", mig.MovedSlots))
	}).WithContext(ctx).WithTimeout(day2SettleTimeout).WithPolling(day2Poll).Should(Succeed())
	d.settle(ctx, 4, int(d.rc.Spec.ReplicasPerMaster))
	obs := s.stop()
	d.expectSeen(obs, "Rebalancing=True", "Progressing=True")
	d.expectSpread(ctx, 4)
	reportStage("masters 3 -> 4, operator deleted", time.Since(stats.start), stats)
	Expect(stats.errors()).To(BeZero(), "client-visible errors while slots moved:\n%s", stats)
}

func (d *day2) verifyLoad(ctx SpecContext) {
	d.load.stop()
	By("reading every key and counter back")
	problems, summary, err := d.load.verify(ctx)
	Expect(err).NotTo(HaveOccurred())
	report := d.load.report()
	fmt.Fprintf(GinkgoWriter, "client-visible outcomes by stage:\n%s%s\n", report, summary)
	AddReportEntry("Day-2 client-visible outcomes by stage", report)
	AddReportEntry("Day-2 final check", summary)
	violations := d.load.Violations()
	fmt.Fprintf(GinkgoWriter, "reads that did not return the acknowledged value: %q\nkeys and counters that do not match the acknowledgements: %q\n", violations, problems)
	if len(violations) > 0 || len(problems) > 0 {
		fmt.Fprintf(GinkgoWriter, "stale or lost reads: %s\nINCR replies beyond the acknowledgements: %q\n", d.load.ViolationTail(), d.load.CounterJumps())
		d.dumpLogs(ctx)
	}
	Expect(violations).To(BeEmpty(), "reads that did not return the acknowledged value")
	Expect(problems).To(BeEmpty(), "keys and counters that do not match the acknowledgements")
}

func (d *day2) deleteCluster(ctx SpecContext) {
	d.load.close()
	By("deleting the RedisCluster")
	Expect(d.c.Delete(ctx, d.rc)).To(Succeed())
	Eventually(func(g Gomega, ctx context.Context) {
		err := d.c.Get(ctx, client.ObjectKeyFromObject(d.rc), &v1alpha1.RedisCluster{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "RedisCluster still there (%v)", err)
		var pods corev1.PodList
		g.Expect(d.c.List(ctx, &pods, client.InNamespace(d.ns))).To(Succeed())
		g.Expect(pods.Items).To(BeEmpty(), "pods left")
		var claims corev1.PersistentVolumeClaimList
		g.Expect(d.c.List(ctx, &claims, client.InNamespace(d.ns))).To(Succeed())
		g.Expect(claims.Items).To(BeEmpty(), "claims left")
	}).WithContext(ctx).WithTimeout(objectsGoneTimeout).WithPolling(operatorPollInterval).Should(Succeed())
}

// update changes the spec, retrying on conflicts, and keeps the result.
func (d *day2) update(ctx context.Context, mutate func(*v1alpha1.RedisCluster)) {
	GinkgoHelper()
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := d.c.Get(ctx, client.ObjectKeyFromObject(d.rc), d.rc); err != nil {
			return err
		}
		mutate(d.rc)
		return d.c.Update(ctx, d.rc)
	})).To(Succeed())
}

// settle waits until the cluster is done with the current generation and
// everything agrees: Ready and nothing in progress in status, the expected
// shards and replicas both in status and on the nodes, every node
// cluster_state:ok and knowing exactly the nodes that have pods, and a
// clean redis-cli --cluster check.
func (d *day2) settle(ctx context.Context, masters, replicas int) {
	GinkgoHelper()
	Eventually(func(g Gomega, ctx context.Context) {
		rc := &v1alpha1.RedisCluster{}
		g.Expect(d.c.Get(ctx, client.ObjectKeyFromObject(d.rc), rc)).To(Succeed())
		st := rc.Status
		g.Expect(st.ObservedGeneration).To(Equal(rc.Generation))
		g.Expect(isReady(rc)).To(BeTrue(), "conditions %+v", st.Conditions)
		for _, t := range []v1alpha1.ConditionType{v1alpha1.ConditionProgressing, v1alpha1.ConditionDegraded, v1alpha1.ConditionRebalancing, v1alpha1.ConditionRollingUpdate} {
			g.Expect(meta.IsStatusConditionTrue(st.Conditions, string(t))).To(BeFalse(), "%s is True: %+v", t, st.Conditions)
		}
		g.Expect(st.Migration).To(BeNil())
		g.Expect(st.Rollout).To(BeNil())
		g.Expect(st.ReadyMasters).To(BeEquivalentTo(masters))
		g.Expect(st.ReadyReplicas).To(BeEquivalentTo(masters * replicas))
		g.Expect(st.SlotsAssigned).To(BeEquivalentTo(16384))

		pods, err := nodePodsOrErr(ctx, d.c, rc)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pods).To(HaveLen(masters*(1+replicas)), "pods")
		views := map[string]clusterNodesView{}
		ips := map[string]bool{}
		for _, p := range pods {
			ips[p.Status.PodIP] = true
		}
		for _, p := range pods {
			g.Expect(podIsReady(&p)).To(BeTrue(), "pod %s: %s", p.Name, podSummary(&p))
			v, err := nodeView(ctx, p.Status.PodIP, d.password)
			g.Expect(err).NotTo(HaveOccurred(), "pod %s", p.Name)
			g.Expect(v.state).To(Equal("ok"), "cluster_state of %s", p.Name)
			g.Expect(v.nodes).To(HaveLen(len(pods)), "pod %s knows other nodes than those with pods:\n%s", p.Name, v.raw)
			for _, n := range v.nodes {
				g.Expect(ips).To(HaveKey(n.ip), "pod %s has node %s at an address no pod has:\n%s", p.Name, n.id, v.raw)
			}
			for _, ip := range v.slotsIPs {
				g.Expect(ips).To(HaveKey(ip), "pod %s answers CLUSTER SLOTS with an address no pod has: %s", p.Name, ip)
			}
			views[p.Name] = v
		}
		masterCount := 0
		for _, v := range views {
			if v.myself().master {
				masterCount++
				g.Expect(v.replicasOf(v.myself().id)).To(Equal(replicas), "replicas of a master:\n%s", v.raw)
			}
		}
		g.Expect(masterCount).To(Equal(masters), "masters")
		out, err := clusterCheck(ctx, pods[0].Status.PodIP, d.password)
		g.Expect(err).NotTo(HaveOccurred(), "redis-cli --cluster check:\n%s", out)
		g.Expect(checkProblems(out)).To(BeEmpty(), "redis-cli --cluster check:\n%s", out)
		d.rc = rc
	}).WithContext(ctx).WithTimeout(day2SettleTimeout).WithPolling(2 * time.Second).Should(Succeed())
}

// expectSpread checks every master serves an even share of the slots.
//
// It reads one node's view, which learns other nodes' roles from their
// pings, while settle checks each node's own role: a new shard's replica
// can still be an empty master there for a moment (seen in CI, its last
// pong to that node 3 s old). The view gets a few gossip rounds to agree.
func (d *day2) expectSpread(ctx context.Context, masters int) {
	GinkgoHelper()
	pods := nodePods(ctx, d.c, d.rc)
	share := 16384 / masters
	var counts []int
	Eventually(func(g Gomega, ctx context.Context) {
		v, err := nodeView(ctx, pods[0].Status.PodIP, d.password)
		g.Expect(err).NotTo(HaveOccurred())
		counts = nil
		for _, n := range v.nodes {
			if n.master {
				counts = append(counts, n.slots)
				g.Expect(n.slots).To(BeNumerically("~", share, share*slotSpreadPercent/100), "slots of %s:\n%s", n.id, v.raw)
			}
		}
		g.Expect(counts).To(HaveLen(masters), "masters:\n%s", v.raw)
	}).WithContext(ctx).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())
	fmt.Fprintf(GinkgoWriter, "slots per master: %v\n", counts)
}

func (d *day2) podUIDs(ctx context.Context) map[string]types.UID {
	uids := map[string]types.UID{}
	for _, p := range nodePods(ctx, d.c, d.rc) {
		uids[p.Name] = p.UID
	}
	return uids
}

// operatorPodOrErr is the one operator pod that is not terminating.
func (d *day2) operatorPodOrErr(ctx context.Context) (corev1.Pod, error) {
	var list corev1.PodList
	if err := d.c.List(ctx, &list, client.InNamespace(d.operatorNS), client.MatchingLabels{
		"app.kubernetes.io/instance": operatorRelease, "app.kubernetes.io/component": "operator",
	}); err != nil {
		return corev1.Pod{}, err
	}
	pods := slices.DeleteFunc(list.Items, func(p corev1.Pod) bool { return !p.DeletionTimestamp.IsZero() })
	if len(pods) != 1 {
		return corev1.Pod{}, fmt.Errorf("%d operator pods", len(pods))
	}
	return pods[0], nil
}

func (d *day2) operatorPod(ctx context.Context) corev1.Pod {
	GinkgoHelper()
	p, err := d.operatorPodOrErr(ctx)
	Expect(err).NotTo(HaveOccurred())
	return p
}

// reportStage reports how long a stage took and what the clients saw.
func reportStage(stage string, took time.Duration, stats *stageStats) {
	line := took.Round(100 * time.Millisecond).String()
	if stats != nil {
		line += fmt.Sprintf(", %d client commands, %d client-visible errors", stats.ops.Load(), stats.errors())
	}
	AddReportEntry("Day-2 "+stage, line)
	fmt.Fprintf(GinkgoWriter, "Day-2 %s: %s\n", stage, line)
}

// expectSeen checks that the status told the truth during a stage and that
// the conditions want were seen; it reports day2Transient if it was seen.
func (d *day2) expectSeen(obs observations, want ...string) {
	GinkgoHelper()
	fmt.Fprintf(GinkgoWriter, "conditions seen in %d samples: %v\n", obs.samples, obs.seenList())
	Expect(obs.violations).To(BeEmpty(), "status that did not tell the truth")
	if m, ok := obs.seen[day2Transient]; ok {
		AddReportEntry("Day-2 transient "+day2Transient+" during a planned change", strings.Join(m, "\n"))
		fmt.Fprintf(GinkgoWriter, "transient %s: %q\n", day2Transient, m)
	}
	for _, w := range want {
		Expect(obs.seen).To(HaveKey(w), "conditions seen: %v", obs.seenList())
	}
}

// observations are what a sampler saw of the status during a stage.
type observations struct {
	samples int
	// seen maps "Type=Status" to the distinct messages seen with it (the
	// first maxMessages of them).
	seen       map[string][]string
	violations []string
}

func (o observations) seenList() []string {
	var l []string
	for k, m := range o.seen {
		l = append(l, fmt.Sprintf("%s (%d messages, first %q)", k, len(m), m[0]))
	}
	slices.Sort(l)
	return l
}

// sampler polls the RedisCluster and its nodes during a stage: which
// conditions it shows, and whether they tell the truth.
type sampler struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	obs    observations
}

func (d *day2) startSampler(ctx context.Context) *sampler {
	sctx, cancel := context.WithCancel(ctx)
	s := &sampler{cancel: cancel, done: make(chan struct{}), obs: observations{seen: map[string][]string{}}}
	go func() {
		defer GinkgoRecover()
		defer close(s.done)
		tick := time.NewTicker(day2Poll)
		defer tick.Stop()
		var badSince time.Time
		for {
			select {
			case <-sctx.Done():
				return
			case <-tick.C:
			}
			rc := &v1alpha1.RedisCluster{}
			if err := d.c.Get(sctx, client.ObjectKeyFromObject(d.rc), rc); err != nil {
				continue
			}
			bad := ""
			if isReady(rc) && rc.Status.ObservedGeneration == rc.Generation {
				bad = d.nodesNotOK(sctx)
			}
			if sctx.Err() != nil {
				return
			}
			now := time.Now()
			s.mu.Lock()
			s.obs.samples++
			for _, c := range rc.Status.Conditions {
				key := c.Type + "=" + string(c.Status)
				if m := s.obs.seen[key]; len(m) < maxMessages && !slices.Contains(m, c.Message) {
					s.obs.seen[key] = append(m, c.Message)
				}
			}
			if c := statusContradictions(rc); len(c) > 0 {
				if nodes := d.nodesNotOK(sctx); nodes != "" {
					c = append(c, "nodes then: "+nodes)
				}
				s.obs.violations = append(s.obs.violations, c...)
			}
			switch {
			case bad == "":
				badSince = time.Time{}
			case badSince.IsZero():
				badSince = now
			case now.Sub(badSince) > readyGrace:
				s.obs.violations = append(s.obs.violations, fmt.Sprintf("Ready=True for %v while %s", now.Sub(badSince).Round(time.Second), bad))
				badSince = time.Time{}
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *sampler) stop() observations {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.obs
}

// statusContradictions are the ways one status snapshot contradicts itself.
func statusContradictions(rc *v1alpha1.RedisCluster) []string {
	var out []string
	st := rc.Status
	is := func(t v1alpha1.ConditionType) bool { return meta.IsStatusConditionTrue(st.Conditions, string(t)) }
	if is(v1alpha1.ConditionReady) {
		if is(v1alpha1.ConditionProgressing) {
			out = append(out, "Ready=True and Progressing=True")
		}
		if st.ClusterState != "ok" || st.SlotsAssigned != 16384 {
			out = append(out, fmt.Sprintf("Ready=True with clusterState %q and %d slots assigned", st.ClusterState, st.SlotsAssigned))
		}
	}
	if is(v1alpha1.ConditionRebalancing) && st.Migration == nil {
		out = append(out, "Rebalancing=True without status.migration")
	}
	if st.Migration != nil && !st.Migration.DryRun && !is(v1alpha1.ConditionRebalancing) {
		out = append(out, "status.migration without Rebalancing=True")
	}
	if st.Rollout != nil && !is(v1alpha1.ConditionRollingUpdate) {
		out = append(out, "status.rollout without RollingUpdate=True")
	}
	for i, o := range out {
		out[i] = time.Now().UTC().Format("15:04:05.0") + " " + o
	}
	return out
}

// nodesNotOK says which running node pods do not report cluster_state:ok,
// or "" when all do.
func (d *day2) nodesNotOK(ctx context.Context) string {
	pods, err := nodePodsOrErr(ctx, d.c, d.rc)
	if err != nil {
		return ""
	}
	var bad []string
	for _, p := range pods {
		if !p.DeletionTimestamp.IsZero() {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		rdb := nodeClient(p.Status.PodIP, d.password)
		info, err := rdb.ClusterInfo(cctx).Result()
		rdb.Close()
		cancel()
		switch {
		case err != nil:
			bad = append(bad, p.Name+": "+err.Error())
		case !strings.Contains(info, "cluster_state:ok"):
			bad = append(bad, p.Name+": not cluster_state:ok")
		}
	}
	return strings.Join(bad, "; ")
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, masterID string
	ip           string
	master       bool
	myself       bool
	slots        int
}

// clusterNodesView is one node's CLUSTER NODES and CLUSTER INFO.
type clusterNodesView struct {
	state string
	nodes []clusterNode
	raw   string
	// slotsIPs are the addresses CLUSTER SLOTS gives clients.
	slotsIPs []string
}

func (v clusterNodesView) myself() clusterNode {
	for _, n := range v.nodes {
		if n.myself {
			return n
		}
	}
	return clusterNode{}
}

func (v clusterNodesView) replicasOf(id string) int {
	n := 0
	for _, r := range v.nodes {
		if r.masterID == id {
			n++
		}
	}
	return n
}

// nodeView asks one node for CLUSTER INFO and CLUSTER NODES.
func nodeView(ctx context.Context, ip, password string) (clusterNodesView, error) {
	rdb := nodeClient(ip, password)
	defer rdb.Close()
	info, err := rdb.ClusterInfo(ctx).Result()
	if err != nil {
		return clusterNodesView{}, err
	}
	raw, err := rdb.ClusterNodes(ctx).Result()
	if err != nil {
		return clusterNodesView{}, err
	}
	slots, err := rdb.ClusterSlots(ctx).Result()
	if err != nil {
		return clusterNodesView{}, err
	}
	v := clusterNodesView{raw: raw, nodes: parseClusterNodes(raw)}
	for _, r := range slots {
		for _, n := range r.Nodes {
			ip, _, _ := strings.Cut(n.Addr, ":")
			v.slotsIPs = append(v.slotsIPs, ip)
		}
	}
	for line := range strings.Lines(info) {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_state:"); ok {
			v.state = s
		}
	}
	return v, nil
}

// parseClusterNodes reads CLUSTER NODES: id, flags, master id and the
// number of slots served (open slots in brackets are not counted).
func parseClusterNodes(raw string) []clusterNode {
	var nodes []clusterNode
	for line := range strings.Lines(raw) {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		flags := strings.Split(f[2], ",")
		n := clusterNode{id: f[0], master: slices.Contains(flags, "master"), myself: slices.Contains(flags, "myself")}
		if hostPort, _, ok := strings.Cut(f[1], "@"); ok {
			n.ip, _, _ = strings.Cut(hostPort, ":")
		}
		if f[3] != "-" {
			n.masterID = f[3]
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue
			}
			lo, hi, isRange := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 == nil && err2 == nil {
				n.slots += b - a + 1
			}
		}
		nodes = append(nodes, n)
	}
	return nodes
}
