package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// Timeouts of the fromRedis spec.
const (
	fromRedisSourceKeys     = 20000
	fromRedisSyncTimeout    = 5 * time.Minute
	fromRedisCutoverTimeout = 3 * time.Minute
	fromRedisWriteFor       = 10 * time.Second
	fromRedisSourcePassword = "e2e-source-password"
)

// describeFromRedis adds the spec.bootstrap.fromRedis spec: Debian's
// redis-server on the test host (the pods reach the host at the address
// the host uses toward them), 20,000 keys in it, a RedisCluster of 3
// masters importing it, a checking client writing to the source until the
// cut-over and to the cluster after it; every acknowledged write is there.
func describeFromRedis(env func() (client.Client, suiteConfig, string)) {
	Describe("Bootstrap from a real Redis", Label("fromredis"), Ordered, func() {
		var (
			c          client.Client
			operatorNS string
			ns         string
			source     *redis.Client
			sourceAddr string // as the pods reach it
		)
		BeforeAll(func(ctx SpecContext) {
			c, _, operatorNS = env()
			ns = createNamespace(ctx, c, "shoal-e2e-fromredis-")
			bin, err := exec.LookPath("redis-server")
			Expect(err).NotTo(HaveOccurred(), "redis-server (Debian package redis-server) runs the source on the host")

			By("finding the host's address toward the pods (the operator pod's IP)")
			hostIP := hostAddrTowardPods(ctx, c, operatorNS)

			By("starting redis-server on " + hostIP + " with a password")
			l, err := net.Listen("tcp", net.JoinHostPort(hostIP, "0"))
			Expect(err).NotTo(HaveOccurred())
			port := l.Addr().(*net.TCPAddr).Port
			Expect(l.Close()).To(Succeed())
			dir := GinkgoT().TempDir()
			cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", hostIP, "--dir", dir,
				"--requirepass", fromRedisSourcePassword, "--save", "", "--appendonly", "no",
				"--logfile", filepath.Join(dir, "redis.log"))
			Expect(cmd.Start()).To(Succeed())
			DeferCleanup(func() {
				_ = cmd.Process.Signal(os.Interrupt)
				_ = cmd.Wait()
			})
			sourceAddr = net.JoinHostPort(hostIP, strconv.Itoa(port))
			source = redis.NewClient(&redis.Options{Addr: sourceAddr, Password: fromRedisSourcePassword, Protocol: 2, DisableIdentity: true})
			DeferCleanup(source.Close)
			Eventually(func(ctx context.Context) error { return source.Ping(ctx).Err() }).
				WithContext(ctx).WithTimeout(time.Minute).WithPolling(clusterPoll).Should(Succeed())
		}, NodeTimeout(2*time.Minute))

		It("imports the source under writes and keeps every acknowledged write across the cut-over", func(ctx SpecContext) {
			By(fmt.Sprintf("writing %d keys to the source", fromRedisSourceKeys))
			p := source.Pipeline()
			for i := range fromRedisSourceKeys {
				switch i % 4 {
				case 0:
					p.Set(ctx, fmt.Sprintf("fr:str:%d", i), i, 0)
				case 1:
					p.HSet(ctx, fmt.Sprintf("fr:hash:%d", i), "f", i)
				case 2:
					p.RPush(ctx, fmt.Sprintf("fr:list:%d", i), "a", i)
				case 3:
					p.Set(ctx, fmt.Sprintf("fr:ttl:%d", i), i, time.Hour)
				}
			}
			_, err := p.Exec(ctx)
			Expect(err).NotTo(HaveOccurred())

			By("applying a RedisCluster of 3 masters importing it (credentials from a Secret)")
			Expect(c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "source"},
				StringData: map[string]string{"password": fromRedisSourcePassword}})).To(Succeed())
			rc := newRedisCluster(ns, "imported", 3, 1, true)
			rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromRedis: &v1alpha1.FromRedisSpec{
				Addresses:         []string{sourceAddr},
				CredentialsSecret: &v1alpha1.FromRedisCredentials{Name: "source"},
			}}
			Expect(c.Create(ctx, rc)).To(Succeed())

			By("writing to the source while the operator copies (the checking client)")
			acked := map[string]string{}
			writeUntil := time.Now().Add(fromRedisWriteFor)
			waitSynced := func() {
				Eventually(func(g Gomega, ctx context.Context) {
					g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
					cond := meta.FindStatusCondition(rc.Status.Conditions, string(v1alpha1.ConditionFromRedisSynced))
					g.Expect(cond).NotTo(BeNil(), "status %+v", rc.Status.FromRedis)
					g.Expect(cond.Reason).To(Equal(string(v1alpha1.ReasonImportSyncing)), "%s: %s", cond.Reason, cond.Message)
				}).WithContext(ctx).WithTimeout(fromRedisSyncTimeout).WithPolling(clusterPoll).Should(Succeed())
			}
			for i := 0; time.Now().Before(writeUntil) || len(acked) < 1000; i++ {
				k, v := fmt.Sprintf("fr:w:%d", i%2000), strconv.Itoa(i)
				Expect(source.Set(ctx, k, v, 0).Err()).To(Succeed())
				acked[k] = v
			}
			waitSynced()
			fmt.Fprintf(GinkgoWriter, "import status before the cut-over: %+v\n", *rc.Status.FromRedis)
			AddReportEntry("fromRedis lag before the cut-over (s)", rc.Status.FromRedis.LagSeconds)
			for i := 0; i < 500; i++ {
				k, v := fmt.Sprintf("fr:w:%d", i), "last-"+strconv.Itoa(i)
				Expect(source.Set(ctx, k, v, 0).Err()).To(Succeed())
				acked[k] = v
			}
			Expect(source.Del(ctx, "fr:str:0").Err()).To(Succeed())

			By("cutting over: the application stopped writing to the source; the annotation asks for the last pass")
			Eventually(func(ctx context.Context) error {
				if err := c.Get(ctx, client.ObjectKeyFromObject(rc), rc); err != nil {
					return err
				}
				if rc.Annotations == nil {
					rc.Annotations = map[string]string{}
				}
				rc.Annotations[v1alpha1.CutoverAnnotation] = "true"
				return c.Update(ctx, rc)
			}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(clusterPoll).Should(Succeed())
			cutover := time.Now()
			Eventually(func(g Gomega, ctx context.Context) {
				g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
				g.Expect(rc.Status.FromRedis).NotTo(BeNil())
				g.Expect(rc.Status.FromRedis.Phase).To(Equal(v1alpha1.FromRedisCompleted), "%+v", *rc.Status.FromRedis)
			}).WithContext(ctx).WithTimeout(fromRedisCutoverTimeout).WithPolling(clusterPoll).Should(Succeed())
			AddReportEntry("fromRedis cut-over (annotation to Completed)", time.Since(cutover).Round(100*time.Millisecond).String())

			By("writing to the cluster after the cut-over")
			password := clusterPassword(ctx, c, rc)
			var addrs []string
			for _, p := range nodePods(ctx, c, rc) {
				addrs = append(addrs, net.JoinHostPort(p.Status.PodIP, strconv.Itoa(builders.RedisPort)))
			}
			cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Password: password, Protocol: 2,
				DisableIdentity: true, DialTimeout: clusterIO, ReadTimeout: clusterIO, WriteTimeout: clusterIO})
			DeferCleanup(cc.Close)
			for i := 0; i < 500; i++ {
				k, v := fmt.Sprintf("fr:w:%d", i), "cluster-"+strconv.Itoa(i)
				Expect(cc.Set(ctx, k, v, 0).Err()).To(Succeed())
				acked[k] = v
			}

			By("checking every acknowledged write, the source's keys and the deletion")
			missing := 0
			for k, v := range acked {
				got, err := cc.Get(ctx, k).Result()
				if err != nil || got != v {
					missing++
					if missing <= 10 {
						fmt.Fprintf(GinkgoWriter, "%s: want %q, cluster has %q (%v)\n", k, v, got, err)
					}
				}
			}
			Expect(missing).To(BeZero(), "acknowledged writes missing or stale in the cluster (of %d)", len(acked))
			want, err := source.DBSize(ctx).Result()
			Expect(err).NotTo(HaveOccurred())
			Expect(mastersDBSize(ctx, cc)).To(Equal(want), "keys in the cluster vs the source")
			Expect(cc.Exists(ctx, "fr:str:0").Val()).To(BeZero(), "a key deleted on the source before the cut-over")
			Expect(cc.HGet(ctx, "fr:hash:1", "f").Val()).To(Equal("1"))
			Expect(cc.LRange(ctx, "fr:list:2", 0, -1).Val()).To(Equal([]string{"a", "2"}))
			Expect(cc.TTL(ctx, "fr:ttl:3").Val()).To(BeNumerically(">", 50*time.Minute))
		}, SpecTimeout(formTimeout+fromRedisSyncTimeout+fromRedisCutoverTimeout+2*time.Minute))
	})
}

// hostAddrTowardPods is the host's address as the pods reach it: the one
// on its route toward the operator pod.
func hostAddrTowardPods(ctx context.Context, c client.Client, operatorNS string) string {
	GinkgoHelper()
	var pods corev1.PodList
	Expect(c.List(ctx, &pods, client.InNamespace(operatorNS), client.MatchingLabels{"app.kubernetes.io/component": "operator"})).To(Succeed())
	Expect(pods.Items).NotTo(BeEmpty())
	return localAddrToward(pods.Items[0].Status.PodIP)
}

// localAddrToward is the host's address on the route toward ip: the one
// the pods reach the host at.
func localAddrToward(ip string) string {
	GinkgoHelper()
	conn, err := net.Dial("udp", net.JoinHostPort(ip, "9"))
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close() //nolint:errcheck // nothing was sent
	return conn.LocalAddr().(*net.UDPAddr).IP.String()
}
