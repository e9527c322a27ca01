package e2e

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// Timeouts of the RedisReplication specs: generous bounds for a loaded
// 2-core machine.
const (
	// replReadyTimeout bounds apply to Ready: pods scheduled, volumes
	// bound, the master seeded, replicas synced, every sentinel knowing
	// every replica (a sentinel reads the master's INFO every 10 s).
	replReadyTimeout = 5 * time.Minute
	// replWriteTimeout bounds the deletion of the master pod to the first
	// write accepted through the master Service: the sentinels' failover
	// after down-after-milliseconds, or the pod back as the master.
	replWriteTimeout = 3 * time.Minute
	replIO           = 2 * time.Second
	replPoll         = 500 * time.Millisecond
	replKeys         = 200
)

// describeReplication adds the RedisReplication specs: one master, two
// replicas and three sentinels (shoal-node --sentinel) on persistent
// volumes; writes through the master Service, reads through the replicas
// Service, and the master pod deleted.
func describeReplication(env func() (client.Client, suiteConfig, string)) {
	Describe("a RedisReplication with 2 replicas and 3 sentinels", Label("replication"), Ordered, func() {
		r := &replSpec{}
		BeforeAll(func(ctx SpecContext) {
			r.c, _, _ = env()
			r.ns = createNamespace(ctx, r.c, "shoal-e2e-repl-")
		})
		It("applies a RedisReplication and reports it Ready", func(ctx SpecContext) { r.apply(ctx) },
			SpecTimeout(replReadyTimeout+time.Minute))
		It("writes through the master Service and reads through the replicas Service", func(ctx SpecContext) {
			r.writeAndRead(ctx)
		}, SpecTimeout(replWriteTimeout))
		It("resumes writes through the same master Service after the master pod is deleted", func(ctx SpecContext) {
			r.deleteMaster(ctx)
		}, SpecTimeout(replWriteTimeout+replReadyTimeout))
		It("removes the pods with the RedisReplication", func(ctx SpecContext) { r.deleteAll(ctx) },
			SpecTimeout(objectsGoneTimeout+30*time.Second))
	})
}

type replSpec struct {
	c        client.Client
	ns       string
	rr       *v1alpha1.RedisReplication
	password string
}

func (r *replSpec) apply(ctx SpecContext) {
	r.rr = &v1alpha1.RedisReplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: "e2e-repl"},
		Spec: v1alpha1.RedisReplicationSpec{
			Replicas: 3,
			Sentinel: v1alpha1.SentinelSpec{Replicas: 3, DownAfterMilliseconds: 5000, FailoverTimeout: 60000, ParallelSyncs: 1},
		},
	}
	By("applying RedisReplication " + r.rr.Name)
	start := time.Now()
	Expect(r.c.Create(ctx, r.rr)).To(Succeed())
	r.waitReady(ctx, replReadyTimeout)
	AddReportEntry("RedisReplication applied to Ready", time.Since(start).Round(100*time.Millisecond).String())
	ref, _ := r.rr.AuthSecret()
	var secret corev1.Secret
	Expect(r.c.Get(ctx, types.NamespacedName{Namespace: r.ns, Name: ref.Name}, &secret)).To(Succeed())
	r.password = string(secret.Data[ref.Key])
	Expect(r.password).NotTo(BeEmpty(), "secret %s key %s", ref.Name, ref.Key)
	Expect(r.rr.Status.Master).NotTo(BeEmpty())
	Expect(r.rr.Status.Replicas).To(HaveLen(2))
}

// waitReady waits until the RedisReplication is Ready for its generation.
func (r *replSpec) waitReady(ctx context.Context, timeout time.Duration) {
	GinkgoHelper()
	Eventually(func(g Gomega, ctx context.Context) {
		g.Expect(r.c.Get(ctx, client.ObjectKeyFromObject(r.rr), r.rr)).To(Succeed())
		g.Expect(r.rr.Status.ObservedGeneration).To(Equal(r.rr.Generation))
		g.Expect(meta.IsStatusConditionTrue(r.rr.Status.Conditions, string(v1alpha1.ConditionReady))).To(BeTrue(),
			"conditions %+v", r.rr.Status.Conditions)
	}).WithContext(ctx).WithTimeout(timeout).WithPolling(replPoll).Should(Succeed())
}

// serviceClient is a client of a Service: every connection it opens goes
// to a ready endpoint of the Service's EndpointSlices as they are then, so
// it follows the Service's selection (the role labels the operator moves)
// the way kube-proxy does, without needing the ClusterIP to be routable
// from where the suite runs (kind).
func (r *replSpec) serviceClient(service string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: service, Password: r.password, Protocol: 2, DisableIdentity: true, MaxRetries: -1,
		DialTimeout: replIO, ReadTimeout: replIO, WriteTimeout: replIO, PoolSize: 1,
		Dialer: func(ctx context.Context, _, _ string) (net.Conn, error) {
			addr, err := r.endpoint(ctx, service)
			if err != nil {
				return nil, err
			}
			return (&net.Dialer{Timeout: replIO}).DialContext(ctx, "tcp", addr)
		},
	})
}

// endpoint is a ready address of the Service's redis port.
func (r *replSpec) endpoint(ctx context.Context, service string) (string, error) {
	var slices discoveryv1.EndpointSliceList
	if err := r.c.List(ctx, &slices, client.InNamespace(r.ns), client.MatchingLabels{discoveryv1.LabelServiceName: service}); err != nil {
		return "", err
	}
	for _, s := range slices.Items {
		port := int32(builders.RedisPort)
		for _, p := range s.Ports {
			if p.Port != nil && p.Name != nil && *p.Name == builders.RedisPortName {
				port = *p.Port
			}
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && *e.Conditions.Ready && len(e.Addresses) > 0 {
				return net.JoinHostPort(e.Addresses[0], strconv.Itoa(int(port))), nil
			}
		}
	}
	return "", fmt.Errorf("service %s has no ready endpoint", service)
}

func (r *replSpec) writeAndRead(ctx SpecContext) {
	master := r.serviceClient(builders.ReplicationMasterServiceName(r.rr))
	defer master.Close() //nolint:errcheck // a test client
	By(fmt.Sprintf("writing %d keys through Service %s", replKeys, builders.ReplicationMasterServiceName(r.rr)))
	for i := range replKeys {
		Expect(master.Set(ctx, replKey(i), replValue(i), 0).Err()).To(Succeed())
	}
	role, err := master.Do(ctx, "ROLE").Slice()
	Expect(err).NotTo(HaveOccurred())
	Expect(role[0]).To(Equal("master"), "the master Service leads to %v", role)
	// WAIT: both replicas acknowledged the writes before they are read.
	r.waitAcked(ctx, master)

	replicas := r.serviceClient(builders.ReplicationReplicasServiceName(r.rr))
	defer replicas.Close() //nolint:errcheck // a test client
	By("reading them through Service " + builders.ReplicationReplicasServiceName(r.rr))
	role, err = replicas.Do(ctx, "ROLE").Slice()
	Expect(err).NotTo(HaveOccurred())
	Expect(role[0]).To(Equal("slave"), "the replicas Service leads to %v", role)
	for i := range replKeys {
		Expect(replicas.Get(ctx, replKey(i)).Result()).To(Equal(replValue(i)))
	}
	Expect(replicas.Set(ctx, "e2e:repl:refused", "x", 0).Err()).To(MatchError(ContainSubstring("READONLY")))
}

// waitAcked waits until both replicas acknowledged every write of the
// master (WAIT, in steps shorter than the client's read timeout).
func (r *replSpec) waitAcked(ctx context.Context, master *redis.Client) {
	GinkgoHelper()
	Eventually(func(g Gomega, ctx context.Context) {
		g.Expect(master.Wait(ctx, 2, replIO/2).Result()).To(BeNumerically("==", 2))
	}).WithContext(ctx).WithTimeout(replWriteTimeout).WithPolling(replPoll).Should(Succeed())
}

func (r *replSpec) deleteMaster(ctx SpecContext) {
	Expect(r.c.Get(ctx, client.ObjectKeyFromObject(r.rr), r.rr)).To(Succeed())
	victim := r.rr.Status.Master
	var pod corev1.Pod
	Expect(r.c.Get(ctx, types.NamespacedName{Namespace: r.ns, Name: victim}, &pod)).To(Succeed())
	master := r.serviceClient(builders.ReplicationMasterServiceName(r.rr))
	defer master.Close() //nolint:errcheck // a test client
	Expect(master.Set(ctx, "e2e:repl:before", "1", 0).Err()).To(Succeed())
	r.waitAcked(ctx, master)

	By("deleting master pod " + victim)
	deleted := time.Now()
	Expect(r.c.Delete(ctx, &pod)).To(Succeed())
	// The old pod serves until it has terminated: only writes after that
	// count as resumed.
	Eventually(func(g Gomega, ctx context.Context) {
		var p corev1.Pod
		err := r.c.Get(ctx, types.NamespacedName{Namespace: r.ns, Name: victim}, &p)
		g.Expect(apierrors.IsNotFound(err) || err == nil && p.UID != pod.UID).To(BeTrue(), "pod %s (%s) still there (%v)", victim, pod.UID, err)
	}).WithContext(ctx).WithTimeout(objectsGoneTimeout).WithPolling(replPoll).Should(Succeed())
	var after string
	Eventually(func(g Gomega, ctx context.Context) {
		// Each attempt may dial again: the pool drops a broken connection.
		g.Expect(master.Set(ctx, "e2e:repl:after", "1", 0).Err()).To(Succeed())
		after = time.Since(deleted).Round(100 * time.Millisecond).String()
	}).WithContext(ctx).WithTimeout(replWriteTimeout).WithPolling(replPoll).Should(Succeed())
	AddReportEntry("master pod deleted to the first write accepted through the master Service", after)

	// Ready again, with a master that is not the deleted pod: another
	// one, or the same name come back.
	Eventually(func(g Gomega, ctx context.Context) {
		g.Expect(r.c.Get(ctx, client.ObjectKeyFromObject(r.rr), r.rr)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(r.rr.Status.Conditions, string(v1alpha1.ConditionReady))).To(BeTrue(),
			"conditions %+v", r.rr.Status.Conditions)
		var p corev1.Pod
		g.Expect(r.c.Get(ctx, types.NamespacedName{Namespace: r.ns, Name: r.rr.Status.Master}, &p)).To(Succeed())
		g.Expect(p.UID).NotTo(Equal(pod.UID), "master is still the deleted pod")
	}).WithContext(ctx).WithTimeout(replReadyTimeout).WithPolling(replPoll).Should(Succeed())
	By("master is now " + r.rr.Status.Master)
	Eventually(func(g Gomega, ctx context.Context) {
		for i := range replKeys {
			g.Expect(master.Get(ctx, replKey(i)).Result()).To(Equal(replValue(i)), "key %s after the master pod was deleted", replKey(i))
		}
		g.Expect(master.Get(ctx, "e2e:repl:before").Result()).To(Equal("1"))
		g.Expect(master.Set(ctx, "e2e:repl:after", "2", 0).Err()).To(Succeed())
	}).WithContext(ctx).WithTimeout(replWriteTimeout).WithPolling(replPoll).Should(Succeed())
}

func (r *replSpec) deleteAll(ctx SpecContext) {
	By("deleting the RedisReplication")
	Expect(r.c.Delete(ctx, r.rr)).To(Succeed())
	Eventually(func(g Gomega, ctx context.Context) {
		err := r.c.Get(ctx, client.ObjectKeyFromObject(r.rr), &v1alpha1.RedisReplication{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "RedisReplication still there (%v)", err)
		var pods corev1.PodList
		g.Expect(r.c.List(ctx, &pods, client.InNamespace(r.ns))).To(Succeed())
		g.Expect(pods.Items).To(BeEmpty(), "pods left")
	}).WithContext(ctx).WithTimeout(objectsGoneTimeout).WithPolling(operatorPollInterval).Should(Succeed())
}

func replKey(i int) string   { return "e2e:repl:" + strconv.Itoa(i) }
func replValue(i int) string { return "v" + strconv.Itoa(i) }
