package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/internal/s3test"
)

// Timeouts and sizes of the backup spec.
const (
	backupKeys        = 20000
	backupTimeout     = 2 * time.Minute
	restoreTimeout    = 3 * time.Minute
	backupBucket      = "shoal-e2e"
	backupClusterName = "backed"
)

// describeBackup adds the backup and restore spec: an S3-compatible server
// on the test host (gofakes3 with its on-disk backend, a separate process;
// the pods reach it at the host's address toward them), a RedisCluster of
// 3 masters with keys of every type and TTLs, a RedisBackup to the
// server, the RedisCluster deleted, a new one restored from the backup
// into 4 masters: every key, value and TTL is back.
func describeBackup(env func() (client.Client, suiteConfig, string)) {
	Describe("Backup to object storage and restore", Label("backup"), Ordered, func() {
		var (
			c          client.Client
			operatorNS string
			ns         string
			endpoint   string
		)
		BeforeAll(func(ctx SpecContext) {
			c, _, operatorNS = env()
			ns = createNamespace(ctx, c, "shoal-e2e-backup-")
			bin := os.Getenv(s3test.BinaryVar)
			Expect(bin).NotTo(BeEmpty(), "%s names the S3 server (make s3server)", s3test.BinaryVar)
			hostIP := hostAddrTowardPods(ctx, c, operatorNS)
			By("starting the S3 server on " + hostIP)
			srv, err := s3test.StartProcess(bin, hostIP, GinkgoT().TempDir(), backupBucket)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(srv.Stop)
			endpoint = srv.Endpoint
			Expect(c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s3"},
				StringData: map[string]string{"accessKeyID": "e2e", "secretAccessKey": "e2e-secret"}})).To(Succeed())
		}, NodeTimeout(time.Minute))

		It("backs up a cluster, which is deleted, and restores every key and TTL into 4 masters", func(ctx SpecContext) {
			By("forming a RedisCluster of 3 masters and writing keys")
			rc := newRedisCluster(ns, backupClusterName, 3, 0, true)
			Expect(c.Create(ctx, rc)).To(Succeed())
			waitReady(ctx, c, rc, formTimeout)
			cc := clusterClientOf(ctx, c, rc)
			want := map[string]string{}
			ttls := map[string]time.Duration{}
			p := cc.Pipeline()
			for i := range backupKeys {
				k := fmt.Sprintf("bk:%d", i)
				switch i % 4 {
				case 0:
					p.Set(ctx, k, i, 0)
				case 1:
					p.HSet(ctx, k, "f", i)
				case 2:
					p.RPush(ctx, k, "a", i)
				case 3:
					p.Set(ctx, k, i, time.Hour)
					ttls[k] = time.Hour
				}
				if i%1000 == 999 {
					_, err := p.Exec(ctx)
					Expect(err).NotTo(HaveOccurred())
				}
			}
			_, err := p.Exec(ctx)
			Expect(err).NotTo(HaveOccurred())
			for k := range backupKeys {
				key := fmt.Sprintf("bk:%d", k)
				v, err := dumpOf(ctx, cc, key)
				Expect(err).NotTo(HaveOccurred())
				want[key] = v
			}
			Expect(cc.Close()).To(Succeed())

			By("taking a RedisBackup to the S3 server (zstd)")
			b := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nightly"},
				Spec: v1alpha1.RedisBackupSpec{Cluster: backupClusterName, Compression: v1alpha1.CompressionZstd,
					Destination: v1alpha1.BackupDestination{S3: &v1alpha1.S3Destination{Endpoint: endpoint, Bucket: backupBucket,
						Prefix: "e2e", Insecure: true, CredentialsSecret: v1alpha1.S3Credentials{Name: "s3"}}}}}
			Expect(c.Create(ctx, b)).To(Succeed())
			start := time.Now()
			Eventually(func(g Gomega, ctx context.Context) {
				g.Expect(c.Get(ctx, client.ObjectKeyFromObject(b), b)).To(Succeed())
				g.Expect(b.Status.Phase).To(Equal(v1alpha1.BackupCompleted), "%+v", b.Status)
			}).WithContext(ctx).WithTimeout(backupTimeout).WithPolling(clusterPoll).Should(Succeed())
			AddReportEntry("backup of 3 shards", fmt.Sprintf("%d bytes in %s", b.Status.Size, b.Status.CompletionTime.Sub(b.Status.StartTime.Time)))
			fmt.Fprintf(GinkgoWriter, "backup %s took %s (seen after %s): %+v\n", b.Status.Location,
				b.Status.CompletionTime.Sub(b.Status.StartTime.Time), time.Since(start), b.Status.Shards)
			Expect(b.Status.Shards).To(HaveLen(3))

			By("deleting the RedisCluster")
			Expect(c.Delete(ctx, rc)).To(Succeed())
			Eventually(func(ctx context.Context) bool {
				return apierrors.IsNotFound(c.Get(ctx, client.ObjectKeyFromObject(rc), &v1alpha1.RedisCluster{}))
			}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(clusterPoll).Should(BeTrue())

			By("restoring the backup into a new RedisCluster of 4 masters")
			restored := newRedisCluster(ns, "restored", 4, 0, true)
			restored.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{BackupName: "nightly"}}
			Expect(c.Create(ctx, restored)).To(Succeed())
			Eventually(func(g Gomega, ctx context.Context) {
				g.Expect(c.Get(ctx, client.ObjectKeyFromObject(restored), restored)).To(Succeed())
				cond := meta.FindStatusCondition(restored.Status.Conditions, string(v1alpha1.ConditionRestored))
				g.Expect(cond).NotTo(BeNil())
				g.Expect(cond.Reason).To(Equal(string(v1alpha1.ReasonRestoreCompleted)), "%s: %s", cond.Reason, cond.Message)
			}).WithContext(ctx).WithTimeout(formTimeout + restoreTimeout).WithPolling(clusterPoll).Should(Succeed())
			r := restored.Status.FromBackup
			AddReportEntry("restore of 3 shards into 4 masters", fmt.Sprintf("%d keys in %s", r.KeysLoaded, r.CompletionTime.Sub(r.StartTime.Time)))
			waitReady(ctx, c, restored, time.Minute)

			By("comparing every key and TTL")
			rcc := clusterClientOf(ctx, c, restored)
			DeferCleanup(rcc.Close)
			var got int64
			Expect(rcc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
				n, err := m.DBSize(ctx).Result()
				got += n
				return err
			})).To(Succeed())
			Expect(got).To(Equal(int64(backupKeys)))
			bad := 0
			for k, v := range want {
				g, err := dumpOf(ctx, rcc, k)
				if err != nil || g != v {
					bad++
					if bad < 10 {
						fmt.Fprintf(GinkgoWriter, "%s: want %q, got %q (%v)\n", k, v, g, err)
					}
					continue
				}
				ttl := rcc.TTL(ctx, k).Val()
				if _, has := ttls[k]; has != (ttl > 0) || has && ttl < 50*time.Minute {
					bad++
					if bad < 10 {
						fmt.Fprintf(GinkgoWriter, "%s: TTL %v\n", k, ttl)
					}
				}
			}
			Expect(bad).To(BeZero(), "keys with a wrong value or TTL after the restore")
		}, SpecTimeout(2*formTimeout+backupTimeout+restoreTimeout+2*time.Minute))
	})
}

// clusterClientOf is a ClusterClient of the RedisCluster's pods.
func clusterClientOf(ctx context.Context, c client.Client, rc *v1alpha1.RedisCluster) *redis.ClusterClient {
	var addrs []string
	for _, p := range nodePods(ctx, c, rc) {
		addrs = append(addrs, net.JoinHostPort(p.Status.PodIP, strconv.Itoa(builders.RedisPort)))
	}
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Password: clusterPassword(ctx, c, rc), Protocol: 2,
		DisableIdentity: true, DialTimeout: clusterIO, ReadTimeout: clusterIO, WriteTimeout: clusterIO})
}

// dumpOf is a key's type and value as text.
func dumpOf(ctx context.Context, r redis.Cmdable, k string) (string, error) {
	typ, err := r.Type(ctx, k).Result()
	if err != nil {
		return "", err
	}
	var v any
	switch typ {
	case "string":
		v, err = r.Get(ctx, k).Result()
	case "hash":
		v, err = r.HGetAll(ctx, k).Result()
	case "list":
		v, err = r.LRange(ctx, k, 0, -1).Result()
	}
	return fmt.Sprintf("%s %v", typ, v), err
}
