package e2e

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// Timeouts of the RedisCluster lifecycle specs: generous bounds for a loaded
// 2-core machine, not targets (the figures are reported, not asserted).
const (
	formTimeout    = 5 * time.Minute
	keysTimeout    = 3 * time.Minute
	checkTimeout   = 2 * time.Minute
	recoverTimeout = 5 * time.Minute
	clusterPoll    = 500 * time.Millisecond
	// keyCount keys are written, then read back, through a cluster client.
	keyCount  = 10000
	keyBatch  = 500
	clusterIO = 10 * time.Second
)

// lifecycle is the state the ordered specs of one RedisCluster share: what
// was applied and what was observed (node IDs, the password).
type lifecycle struct {
	c        client.Client
	cfg      suiteConfig
	ns       string
	rc       *v1alpha1.RedisCluster
	password string
	// ids maps each pod to the node ID it had once the cluster was formed.
	ids map[string]string
	// volumes are the PersistentVolumes bound to the cluster's claims.
	volumes []string
}

// newRedisCluster is a RedisCluster of masters x (1 + replicas) nodes.
func newRedisCluster(ns, name string, masters, replicas int32, ephemeral bool) *v1alpha1.RedisCluster {
	return &v1alpha1.RedisCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.RedisClusterSpec{
			Masters: masters, ReplicasPerMaster: replicas,
			Storage: v1alpha1.StorageSpec{Size: ptr.To(resource.MustParse("64Mi")), Ephemeral: ephemeral},
		},
	}
}

func (l *lifecycle) form(ctx SpecContext) {
	l.rc = newRedisCluster(l.ns, "e2e", 3, 1, false)
	By("applying a RedisCluster of 3 masters with 1 replica each, 64Mi claims of the default StorageClass")
	applied := time.Now()
	Expect(l.c.Create(ctx, l.rc)).To(Succeed())

	By("waiting for it to be Ready")
	waitReady(ctx, l.c, l.rc, formTimeout)
	took := time.Since(applied)
	lastPod := lastPodStarted(ctx, l.c, l.rc)
	ready := meta.FindStatusCondition(l.rc.Status.Conditions, string(v1alpha1.ConditionReady))
	AddReportEntry("apply to Ready, 3 masters x (1 + 1 replica) on PVCs", took.Round(100*time.Millisecond).String())
	AddReportEntry("last node container started to Ready (server clock, 1 s resolution)",
		ready.LastTransitionTime.Sub(lastPod).String())
	fmt.Fprintf(GinkgoWriter, "apply to Ready: %v; last node container started to Ready: %v\n",
		took.Round(100*time.Millisecond), ready.LastTransitionTime.Sub(lastPod))

	By("checking every object the operator made is owned by the RedisCluster and every claim is Bound")
	for _, o := range ownedObjects(l.ns) {
		Expect(l.c.Get(ctx, client.ObjectKeyFromObject(o), o)).To(Succeed(), "%T %s", o, o.GetName())
		ref := metav1.GetControllerOf(o)
		Expect(ref).NotTo(BeNil(), "%T %s has no controller", o, o.GetName())
		Expect(ref.UID).To(Equal(l.rc.UID))
	}
	var sts appsv1.StatefulSet
	Expect(l.c.Get(ctx, client.ObjectKey{Namespace: l.ns, Name: "e2e-shard-0"}, &sts)).To(Succeed())
	Expect(*sts.Spec.Replicas).To(Equal(int32(2)))
	Expect(sts.Spec.UpdateStrategy.Type).To(Equal(appsv1.OnDeleteStatefulSetStrategyType))
	Expect(sts.Spec.Template.Spec.Containers[0].Image).To(Equal(l.cfg.NodeImage), "the chart's default node image")
	var claims corev1.PersistentVolumeClaimList
	Expect(l.c.List(ctx, &claims, client.InNamespace(l.ns), client.MatchingLabels(builders.ClusterSelector(l.rc)))).To(Succeed())
	Expect(claims.Items).To(HaveLen(6))
	for _, claim := range claims.Items {
		Expect(claim.Status.Phase).To(Equal(corev1.ClaimBound), "claim %s", claim.Name)
		l.volumes = append(l.volumes, claim.Spec.VolumeName)
	}
	Expect(l.rc.Status.ReadyMasters).To(BeEquivalentTo(3))
	Expect(l.rc.Status.ReadyReplicas).To(BeEquivalentTo(3))
	Expect(l.rc.Status.SlotsAssigned).To(BeEquivalentTo(16384))

	l.password = clusterPassword(ctx, l.c, l.rc)
	l.ids = nodeIDs(ctx, l.c, l.rc, l.password)
	Expect(l.ids).To(HaveLen(6))
	fmt.Fprintf(GinkgoWriter, "node IDs: %v\n", l.ids)
}

func (l *lifecycle) writeAndReadKeys(ctx SpecContext) {
	cc := l.clusterClient(ctx)
	defer cc.Close()
	By(fmt.Sprintf("writing %d keys", keyCount))
	start := time.Now()
	for first := 0; first < keyCount; first += keyBatch {
		_, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := first; i < min(first+keyBatch, keyCount); i++ {
				p.Set(ctx, keyName(i), keyValue(i), 0)
			}
			return nil
		})
		Expect(err).NotTo(HaveOccurred())
	}
	AddReportEntry("SET of 10,000 keys from the test process (pipelined)", time.Since(start).Round(time.Millisecond).String())
	l.readKeys(ctx, cc)
}

// readKeys reads every key back and compares its value.
func (l *lifecycle) readKeys(ctx context.Context, cc *redis.ClusterClient) {
	By(fmt.Sprintf("reading the %d keys back", keyCount))
	for first := 0; first < keyCount; first += keyBatch {
		cmds, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := first; i < min(first+keyBatch, keyCount); i++ {
				p.Get(ctx, keyName(i))
			}
			return nil
		})
		Expect(err).NotTo(HaveOccurred())
		for j, cmd := range cmds {
			Expect(cmd.(*redis.StringCmd).Val()).To(Equal(keyValue(first+j)), "key %s", keyName(first+j))
		}
	}
	Expect(mastersDBSize(ctx, cc)).To(BeEquivalentTo(keyCount), "keys on the masters")
}

func keyName(i int) string  { return "e2e:key:" + strconv.Itoa(i) }
func keyValue(i int) string { return "value-" + strconv.Itoa(i) }

// clusterClient is a go-redis ClusterClient seeded with every pod's address
// (pod IPs are routable from the host on the clusters this suite runs on).
func (l *lifecycle) clusterClient(ctx context.Context) *redis.ClusterClient {
	var addrs []string
	for _, p := range nodePods(ctx, l.c, l.rc) {
		addrs = append(addrs, net.JoinHostPort(p.Status.PodIP, strconv.Itoa(builders.RedisPort)))
	}
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: addrs, Password: l.password, Protocol: 2, DisableIdentity: true,
		DialTimeout: clusterIO, ReadTimeout: clusterIO, WriteTimeout: clusterIO, MaxRedirects: 16,
		// The ClusterClient's own MOVED/ASK retries are not needed from a ready cluster.
		MaxRetries: 2,
	})
}

func (l *lifecycle) checkClean(ctx SpecContext) {
	By("running redis-cli --cluster check against a node")
	Eventually(func(g Gomega, ctx context.Context) {
		pods, err := nodePodsOrErr(ctx, l.c, l.rc)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pods).NotTo(BeEmpty())
		out, err := clusterCheck(ctx, pods[0].Status.PodIP, l.password)
		g.Expect(err).NotTo(HaveOccurred(), "redis-cli --cluster check:\n%s", out)
		g.Expect(checkProblems(out)).To(BeEmpty(), "redis-cli --cluster check:\n%s", out)
		fmt.Fprintf(GinkgoWriter, "redis-cli --cluster check:\n%s", out)
	}).WithContext(ctx).WithTimeout(checkTimeout).WithPolling(2 * time.Second).Should(Succeed())
}

// clusterCheck runs redis-cli --cluster check ip:6379 (Debian redis-tools).
func clusterCheck(ctx context.Context, ip, password string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(cctx, "redis-cli", "--no-auth-warning", "--cluster", "check",
		net.JoinHostPort(ip, strconv.Itoa(builders.RedisPort)), "-a", password).CombinedOutput()
	return string(out), err
}

// checkProblems lists what makes the output of redis-cli --cluster check
// not clean: any [ERR] or [WARNING] line (open slots, nodes that disagree,
// uncovered slots) and the two [OK] lines it must print.
func checkProblems(out string) []string {
	var problems []string
	for line := range strings.Lines(out) {
		if strings.Contains(line, "[ERR]") || strings.Contains(line, "[WARNING]") {
			problems = append(problems, strings.TrimSpace(line))
		}
	}
	for _, ok := range []string{"[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered."} {
		if !strings.Contains(out, ok) {
			problems = append(problems, "missing "+ok)
		}
	}
	return problems
}

func (l *lifecycle) recoverMaster(ctx SpecContext) {
	Expect(l.c.Get(ctx, client.ObjectKeyFromObject(l.rc), l.rc)).To(Succeed())
	Expect(l.rc.Status.Shards).NotTo(BeEmpty())
	Expect(l.rc.Status.Shards[0].Master).NotTo(BeNil())
	victim := l.rc.Status.Shards[0].Master.Pod
	var replica string
	if rs := l.rc.Status.Shards[0].Replicas; len(rs) > 0 {
		replica = rs[0].Pod
	}
	Expect(replica).NotTo(BeEmpty(), "shard 0 has no replica in status")

	var pod corev1.Pod
	Expect(l.c.Get(ctx, types.NamespacedName{Namespace: l.ns, Name: victim}, &pod)).To(Succeed())
	oldUID := pod.UID
	By("deleting master pod " + victim + " (its preStop hands the slots to " + replica + ")")
	deleted := time.Now()
	Expect(l.c.Delete(ctx, &pod)).To(Succeed())

	By("waiting for the pod to come back Ready on its claim")
	Eventually(func(g Gomega, ctx context.Context) {
		var p corev1.Pod
		g.Expect(l.c.Get(ctx, types.NamespacedName{Namespace: l.ns, Name: victim}, &p)).To(Succeed())
		g.Expect(p.UID).NotTo(Equal(oldUID), "the old pod is still there")
		g.Expect(podIsReady(&p)).To(BeTrue(), "pod %s: %s", victim, podSummary(&p))
	}).WithContext(ctx).WithTimeout(recoverTimeout).WithPolling(clusterPoll).Should(Succeed())
	AddReportEntry("master pod deleted to back Ready", time.Since(deleted).Round(100*time.Millisecond).String())

	By("waiting for the same node IDs, a clean cluster check and a Ready RedisCluster")
	Eventually(func(g Gomega, ctx context.Context) {
		g.Expect(nodeIDsOrErr(ctx, l.c, l.rc, l.password)).To(Equal(l.ids), "node IDs by pod")
		g.Expect(l.c.Get(ctx, client.ObjectKeyFromObject(l.rc), l.rc)).To(Succeed())
		g.Expect(isReady(l.rc)).To(BeTrue(), "conditions %+v", l.rc.Status.Conditions)
		g.Expect(l.rc.Status.ReadyMasters).To(BeEquivalentTo(3))
		g.Expect(l.rc.Status.ReadyReplicas).To(BeEquivalentTo(3))
		pods, err := nodePodsOrErr(ctx, l.c, l.rc)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pods).NotTo(BeEmpty())
		out, err := clusterCheck(ctx, pods[0].Status.PodIP, l.password)
		g.Expect(err).NotTo(HaveOccurred(), "redis-cli --cluster check:\n%s", out)
		g.Expect(checkProblems(out)).To(BeEmpty(), "redis-cli --cluster check:\n%s", out)
	}).WithContext(ctx).WithTimeout(recoverTimeout).WithPolling(2 * time.Second).Should(Succeed())
	AddReportEntry("master pod deleted to cluster clean and Ready", time.Since(deleted).Round(100*time.Millisecond).String())

	By("checking the preStop handed mastership over: " + replica + " is the master of shard 0")
	roles := nodeRoles(ctx, l.c, l.rc, l.password)
	Expect(roles[replica]).To(Equal("master"), "roles by pod %v", roles)
	Expect(roles[victim]).To(Equal("slave"), "roles by pod %v", roles)

	cc := l.clusterClient(ctx)
	defer cc.Close()
	l.readKeys(ctx, cc)
}

func (l *lifecycle) deleteAll(ctx SpecContext) {
	By("deleting the RedisCluster")
	deleted := time.Now()
	Expect(l.c.Delete(ctx, l.rc)).To(Succeed())
	Eventually(func(g Gomega, ctx context.Context) {
		err := l.c.Get(ctx, client.ObjectKeyFromObject(l.rc), &v1alpha1.RedisCluster{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "RedisCluster still there (%v)", err)
		for _, o := range ownedObjects(l.ns) {
			err := l.c.Get(ctx, client.ObjectKeyFromObject(o), o)
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T %s still there (%v)", o, o.GetName(), err)
		}
		var pods corev1.PodList
		g.Expect(l.c.List(ctx, &pods, client.InNamespace(l.ns))).To(Succeed())
		g.Expect(pods.Items).To(BeEmpty(), "pods left")
		var claims corev1.PersistentVolumeClaimList
		g.Expect(l.c.List(ctx, &claims, client.InNamespace(l.ns))).To(Succeed())
		g.Expect(claims.Items).To(BeEmpty(), "claims left (retention policy Delete)")
		for _, name := range l.volumes {
			err := l.c.Get(ctx, client.ObjectKey{Name: name}, &corev1.PersistentVolume{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "volume %s still there (%v)", name, err)
		}
	}).WithContext(ctx).WithTimeout(objectsGoneTimeout).WithPolling(operatorPollInterval).Should(Succeed())
	AddReportEntry("RedisCluster deleted to everything gone", time.Since(deleted).Round(100*time.Millisecond).String())
}

// waitReady waits until the RedisCluster reports Ready for its generation.
func waitReady(ctx context.Context, c client.Client, rc *v1alpha1.RedisCluster, timeout time.Duration) {
	GinkgoHelper()
	Eventually(func(g Gomega, ctx context.Context) {
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
		g.Expect(rc.Status.ObservedGeneration).To(Equal(rc.Generation))
		g.Expect(isReady(rc)).To(BeTrue(), "%s conditions %+v", rc.Name, rc.Status.Conditions)
	}).WithContext(ctx).WithTimeout(timeout).WithPolling(clusterPoll).Should(Succeed())
}

func isReady(rc *v1alpha1.RedisCluster) bool {
	return meta.IsStatusConditionTrue(rc.Status.Conditions, string(v1alpha1.ConditionReady))
}

// nodePodsOrErr are the pods of the RedisCluster that have an IP, by name.
func nodePodsOrErr(ctx context.Context, c client.Client, rc *v1alpha1.RedisCluster) ([]corev1.Pod, error) {
	var list corev1.PodList
	if err := c.List(ctx, &list, client.InNamespace(rc.Namespace), client.MatchingLabels(builders.ClusterSelector(rc))); err != nil {
		return nil, err
	}
	pods := slices.DeleteFunc(list.Items, func(p corev1.Pod) bool { return p.Status.PodIP == "" })
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return pods, nil
}

func nodePods(ctx context.Context, c client.Client, rc *v1alpha1.RedisCluster) []corev1.Pod {
	GinkgoHelper()
	pods, err := nodePodsOrErr(ctx, c, rc)
	Expect(err).NotTo(HaveOccurred())
	return pods
}

// lastPodStarted is when the last node container of the cluster started.
func lastPodStarted(ctx context.Context, c client.Client, rc *v1alpha1.RedisCluster) time.Time {
	var last time.Time
	for _, p := range nodePods(ctx, c, rc) {
		for _, s := range p.Status.ContainerStatuses {
			if s.State.Running != nil && s.State.Running.StartedAt.After(last) {
				last = s.State.Running.StartedAt.Time
			}
		}
	}
	return last
}

func podIsReady(p *corev1.Pod) bool {
	if !p.DeletionTimestamp.IsZero() {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// clusterPassword reads the password from the RedisCluster's auth Secret.
func clusterPassword(ctx context.Context, c client.Client, rc *v1alpha1.RedisCluster) string {
	GinkgoHelper()
	ref, _ := rc.AuthSecret()
	var secret corev1.Secret
	Expect(c.Get(ctx, types.NamespacedName{Namespace: rc.Namespace, Name: ref.Name}, &secret)).To(Succeed())
	pw := string(secret.Data[ref.Key])
	Expect(pw).NotTo(BeEmpty(), "secret %s key %s", ref.Name, ref.Key)
	return pw
}

// nodeClient is a client of one node pod.
func nodeClient(ip, password string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: net.JoinHostPort(ip, strconv.Itoa(builders.RedisPort)), Password: password,
		Protocol: 2, DisableIdentity: true, MaxRetries: -1,
		DialTimeout: clusterIO, ReadTimeout: clusterIO, WriteTimeout: clusterIO,
	})
}

// nodeIDsOrErr asks every pod for CLUSTER MYID: node ID by pod name.
func nodeIDsOrErr(ctx context.Context, c client.Client, rc *v1alpha1.RedisCluster, password string) (map[string]string, error) {
	pods, err := nodePodsOrErr(ctx, c, rc)
	if err != nil {
		return nil, err
	}
	ids := map[string]string{}
	for _, p := range pods {
		rdb := nodeClient(p.Status.PodIP, password)
		id, err := rdb.ClusterMyID(ctx).Result()
		rdb.Close()
		if err != nil {
			return nil, fmt.Errorf("CLUSTER MYID of %s: %w", p.Name, err)
		}
		ids[p.Name] = id
	}
	return ids, nil
}

func nodeIDs(ctx context.Context, c client.Client, rc *v1alpha1.RedisCluster, password string) map[string]string {
	GinkgoHelper()
	ids, err := nodeIDsOrErr(ctx, c, rc, password)
	Expect(err).NotTo(HaveOccurred())
	return maps.Clone(ids)
}

// nodeRoles asks every pod for its INFO replication role ("master" or
// "slave"), by pod name.
func nodeRoles(ctx context.Context, c client.Client, rc *v1alpha1.RedisCluster, password string) map[string]string {
	GinkgoHelper()
	roles := map[string]string{}
	for _, p := range nodePods(ctx, c, rc) {
		rdb := nodeClient(p.Status.PodIP, password)
		info, err := rdb.Info(ctx, "replication").Result()
		rdb.Close()
		Expect(err).NotTo(HaveOccurred(), "INFO replication of %s", p.Name)
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "role:"); ok {
				roles[p.Name] = v
			}
		}
	}
	return roles
}
