package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
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
			rc, want, ttls := filledBackupCluster(ctx, c, ns)

			By("taking a RedisBackup to the S3 server (zstd)")
			b := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nightly"},
				Spec: v1alpha1.RedisBackupSpec{Cluster: backupClusterName, Compression: v1alpha1.CompressionZstd,
					Destination: v1alpha1.BackupDestination{S3: &v1alpha1.S3Destination{Endpoint: endpoint, Bucket: backupBucket,
						Prefix: "e2e", Insecure: true, CredentialsSecret: v1alpha1.S3Credentials{Name: "s3"}}}}}
			takeBackup(ctx, c, b)
			Expect(b.Status.Shards).To(HaveLen(3))

			deleteCluster(ctx, c, rc)

			By("restoring the backup into a new RedisCluster of 4 masters")
			restored := newRedisCluster(ns, "restored", 4, 0, true)
			restored.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{BackupName: "nightly"}}
			restoreAndCompare(ctx, c, restored, want, ttls)
		}, SpecTimeout(2*formTimeout+backupTimeout+restoreTimeout+2*time.Minute))
	})
}

// describeBackupToPVC adds the spec of a backup to a PersistentVolumeClaim
// (of the default StorageClass): the operator runs the claim's store
// (shoal-store-<claim>, its own image running store-serve), the backup
// goes through it into the volume and then deletes it, the RedisCluster is
// deleted, and a new one restored from the claim and the backup's folder
// (through a new store) holds every key and TTL.
func describeBackupToPVC(env func() (client.Client, suiteConfig, string)) {
	Describe("Backup to a PVC and restore", Label("backup"), Ordered, func() {
		var (
			c  client.Client
			ns string
		)
		BeforeAll(func(ctx SpecContext) {
			c, _, _ = env()
			ns = createNamespace(ctx, c, "shoal-e2e-pvcbackup-")
			Expect(c.Create(ctx, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backups"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("256Mi")}}}})).To(Succeed())
		}, NodeTimeout(time.Minute))

		It("backs up a cluster to a PVC through its store and restores every key and TTL from it", func(ctx SpecContext) {
			rc, want, ttls := filledBackupCluster(ctx, c, ns)

			By("taking a RedisBackup to the claim (gzip)")
			b := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "to-pvc"},
				Spec: v1alpha1.RedisBackupSpec{Cluster: backupClusterName, Compression: v1alpha1.CompressionGzip,
					Destination: v1alpha1.BackupDestination{PVC: &v1alpha1.PVCDestination{ClaimName: "backups", SubPath: "e2e"}}}}
			takeBackup(ctx, c, b)
			folder := "e2e/" + ns + "/" + backupClusterName + "/to-pvc/"
			Expect(b.Status.Location).To(Equal("pvc://backups/" + folder))
			Expect(b.Status.Shards).To(HaveLen(3))

			By("checking the backup released its store, which is deleted")
			Eventually(func(ctx context.Context) bool {
				return apierrors.IsNotFound(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: builders.StoreName("backups")}, &appsv1.Deployment{}))
			}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(clusterPoll).Should(BeTrue())

			deleteCluster(ctx, c, rc)

			By("restoring from the claim and the backup's folder into a new RedisCluster of 3 masters")
			restored := newRedisCluster(ns, "restored", 3, 0, true)
			restored.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{
				PVC: &v1alpha1.PVCDestination{ClaimName: "backups"}, Path: strings.TrimSuffix(folder, "/")}}
			restoreAndCompare(ctx, c, restored, want, ttls)
		}, SpecTimeout(2*formTimeout+backupTimeout+restoreTimeout+3*time.Minute))
	})
}

// filledBackupCluster forms a RedisCluster of 3 masters and writes
// backupKeys keys of three types to it, a quarter with a TTL of an hour;
// it returns the cluster and the keys' dumps and TTLs.
func filledBackupCluster(ctx context.Context, c client.Client, ns string) (*v1alpha1.RedisCluster, map[string]string, map[string]time.Duration) {
	By("forming a RedisCluster of 3 masters and writing keys")
	rc := newRedisCluster(ns, backupClusterName, 3, 0, true)
	Expect(c.Create(ctx, rc)).To(Succeed())
	waitReady(ctx, c, rc, formTimeout)
	cc := clusterClientOf(ctx, c, rc)
	defer cc.Close() //nolint:errcheck // read and written already
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
	return rc, want, ttls
}

// takeBackup creates b and waits until it is Completed.
func takeBackup(ctx context.Context, c client.Client, b *v1alpha1.RedisBackup) {
	Expect(c.Create(ctx, b)).To(Succeed())
	start := time.Now()
	Eventually(func(g Gomega, ctx context.Context) {
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(b), b)).To(Succeed())
		g.Expect(b.Status.Phase).To(Equal(v1alpha1.BackupCompleted), "%+v", b.Status)
	}).WithContext(ctx).WithTimeout(backupTimeout).WithPolling(clusterPoll).Should(Succeed())
	AddReportEntry("backup of 3 shards to "+b.Status.Location, fmt.Sprintf("%d bytes in %s", b.Status.Size, b.Status.CompletionTime.Sub(b.Status.StartTime.Time)))
	fmt.Fprintf(GinkgoWriter, "backup %s took %s (seen after %s): %+v\n", b.Status.Location,
		b.Status.CompletionTime.Sub(b.Status.StartTime.Time), time.Since(start), b.Status.Shards)
}

func deleteCluster(ctx context.Context, c client.Client, rc *v1alpha1.RedisCluster) {
	By("deleting the RedisCluster")
	Expect(c.Delete(ctx, rc)).To(Succeed())
	Eventually(func(ctx context.Context) bool {
		return apierrors.IsNotFound(c.Get(ctx, client.ObjectKeyFromObject(rc), &v1alpha1.RedisCluster{}))
	}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(clusterPoll).Should(BeTrue())
}

// restoreAndCompare creates restored (with spec.bootstrap.fromBackup),
// waits until it is restored and Ready, and compares every key and TTL
// with want and ttls.
func restoreAndCompare(ctx context.Context, c client.Client, restored *v1alpha1.RedisCluster, want map[string]string, ttls map[string]time.Duration) {
	Expect(c.Create(ctx, restored)).To(Succeed())
	Eventually(func(g Gomega, ctx context.Context) {
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(restored), restored)).To(Succeed())
		cond := meta.FindStatusCondition(restored.Status.Conditions, string(v1alpha1.ConditionRestored))
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Reason).To(Equal(string(v1alpha1.ReasonRestoreCompleted)), "%s: %s", cond.Reason, cond.Message)
	}).WithContext(ctx).WithTimeout(formTimeout + restoreTimeout).WithPolling(clusterPoll).Should(Succeed())
	r := restored.Status.FromBackup
	AddReportEntry(fmt.Sprintf("restore of %d shards into %d masters", r.Shards, restored.Spec.Masters),
		fmt.Sprintf("%d keys in %s", r.KeysLoaded, r.CompletionTime.Sub(r.StartTime.Time)))
	waitReady(ctx, c, restored, time.Minute)

	By("comparing every key and TTL")
	rcc := clusterClientOf(ctx, c, restored)
	DeferCleanup(rcc.Close)
	Expect(mastersDBSize(ctx, rcc)).To(Equal(int64(backupKeys)))
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

// mastersDBSize is the number of keys on the cluster's masters (asked
// all at once: ForEachMaster runs its function on each concurrently).
func mastersDBSize(ctx context.Context, cc *redis.ClusterClient) int64 {
	var n atomic.Int64
	Expect(cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		size, err := m.DBSize(ctx).Result()
		n.Add(size)
		return err
	})).To(Succeed())
	return n.Load()
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
