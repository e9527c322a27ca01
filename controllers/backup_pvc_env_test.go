package controllers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// storeRegistry stands for cluster DNS in envtest, which runs no pods:
// the address of the store Service <ns>/<name> is that of a store a test
// serves itself on 127.0.0.1.
type storeRegistry struct {
	mu    sync.Mutex
	addrs map[string]string
}

// testStores is the suite's registry, read by the reconcilers'
// BackupStores.Address.
var testStores = &storeRegistry{addrs: map[string]string{}} //nolint:gochecknoglobals // the suite's fixture, like testEnv

func (s *storeRegistry) address(ns, service string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.addrs[ns+"/"+service]; ok {
		return a
	}
	return "http://" + service + "." + ns + ".invalid"
}

func (s *storeRegistry) set(ns, service, addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addrs[ns+"/"+service] = addr
}

// servePVCStore plays the kubelet and the store pods of claim, whose
// volume is dir, until the test ends: it serves dir with the token of the
// store's Secret at the time of each request (as `shoal-operator
// store-serve` does in a pod, which gets the Secret of its time),
// registers the address, and marks every store Deployment of claim that
// runs the operator's image (testStoreImage) Ready.
func servePVCStore(t *testing.T, ns, claim, dir string) {
	t.Helper()
	name := builders.StoreName(claim)
	d, err := backup.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret := &corev1.Secret{}
		if err := testEnv.c.Get(r.Context(), client.ObjectKey{Namespace: ns, Name: name}, secret); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		backup.ObjectsHandler(d, string(secret.Data[builders.StoreTokenKey])).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	testStores.set(ns, name, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(pollInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			dep := &appsv1.Deployment{}
			if testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, dep) != nil ||
				builders.StoreReady(dep) || dep.Spec.Template.Spec.Containers[0].Image != testStoreImage {
				continue
			}
			dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: 1, ReadyReplicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}
			_ = testEnv.c.Status().Update(ctx, dep) // tried again at the next tick
		}
	}()
}

// storeGone waits until the store objects of claim are deleted (released
// by their last user).
func storeGone(t *testing.T, ns, claim string) {
	t.Helper()
	key := client.ObjectKey{Namespace: ns, Name: builders.StoreName(claim)}
	eventually(t, func() error {
		for _, o := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &corev1.Secret{}} {
			if err := testEnv.c.Get(context.Background(), key, o); !apierrors.IsNotFound(err) {
				return fmt.Errorf("%T %s: %v, want it deleted (owners %+v)", o, key.Name, err, o.GetOwnerReferences())
			}
		}
		return nil
	})
}

// checkStoreObjects checks the store of claim: a Deployment mounting the
// claim and running store-serve with the Secret's token, a Service
// selecting its pod, each owned by every one of owners.
func checkStoreObjects(t *testing.T, ns, claim string, owners ...client.Object) {
	t.Helper()
	ctx := context.Background()
	key := client.ObjectKey{Namespace: ns, Name: builders.StoreName(claim)}
	dep, svc, secret := &appsv1.Deployment{}, &corev1.Service{}, &corev1.Secret{}
	eventually(t, func() error {
		for _, o := range []client.Object{dep, svc, secret} {
			if err := testEnv.c.Get(ctx, key, o); err != nil {
				return err
			}
			for _, owner := range owners {
				if !slices.ContainsFunc(o.GetOwnerReferences(), func(r metav1.OwnerReference) bool { return r.UID == owner.GetUID() }) {
					return fmt.Errorf("%T %s is not owned by %s (owners %+v)", o, key.Name, owner.GetName(), o.GetOwnerReferences())
				}
			}
		}
		return nil
	})
	pod := dep.Spec.Template.Spec
	if len(pod.Volumes) != 1 || pod.Volumes[0].PersistentVolumeClaim == nil || pod.Volumes[0].PersistentVolumeClaim.ClaimName != claim {
		t.Errorf("the store does not mount claim %s: %+v", claim, pod.Volumes)
	}
	c := pod.Containers[0]
	if !slices.Contains(c.Command, builders.StoreSubcommand) || c.Image != testStoreImage || len(c.VolumeMounts) != 1 {
		t.Errorf("store container %+v", c)
	}
	if len(c.Env) != 1 || c.Env[0].ValueFrom.SecretKeyRef.Name != secret.Name || len(secret.Data[builders.StoreTokenKey]) < 32 {
		t.Errorf("the store's token: env %+v, secret keys %d bytes", c.Env, len(secret.Data[builders.StoreTokenKey]))
	}
	for k, v := range svc.Spec.Selector {
		if dep.Spec.Template.Labels[k] != v {
			t.Errorf("the Service selects %v, the pod is labelled %v", svc.Spec.Selector, dep.Spec.Template.Labels)
		}
	}
}

// TestBackupAndRestoreThroughPVCStore backs up a RedisCluster of three
// real shoal-node masters to a PersistentVolumeClaim: the backup waits
// (WaitingForStore) while the store the operator made for the claim (its
// Deployment mounting the claim, Service and token Secret, owned by the
// backup) is not Ready, then streams through it (served in the test with
// the Secret's token, as the store pod would) into the volume's files;
// status.location says pvc://<claim>/<folder>/. Done, the backup releases
// the store, which is deleted. A new cluster of four masters restores it
// from the claim and path through a new store, and every key, its type,
// value and TTL come back. A store left with another operator version's
// pod template is given this one's by the next backup.
func TestBackupAndRestoreThroughPVCStore(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	create(t, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backups"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}})
	_, _, _, cc := startFilledCluster(t, ns, "src", 3000)

	bk := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b1"},
		Spec: v1alpha1.RedisBackupSpec{Cluster: "src", Compression: v1alpha1.CompressionGzip,
			Destination: v1alpha1.BackupDestination{PVC: &v1alpha1.PVCDestination{ClaimName: "backups", SubPath: "shoal"}}}}
	create(t, bk)
	waitBackup(t, client.ObjectKeyFromObject(bk), pendingFor(v1alpha1.ReasonBackupWaitingForStore))
	checkStoreObjects(t, ns, "backups", bk)
	dir := t.TempDir()
	servePVCStore(t, ns, "backups", dir)

	done := waitBackup(t, client.ObjectKeyFromObject(bk), func(b *v1alpha1.RedisBackup) error {
		if b.Status.Phase != v1alpha1.BackupCompleted {
			return fmt.Errorf("phase %s (%s)", b.Status.Phase, b.Status.Reason)
		}
		return nil
	})
	folder := "shoal/" + ns + "/src/b1/"
	st := done.Status
	if st.Location != "pvc://backups/"+folder || st.Manifest != folder+backup.ManifestName || len(st.Shards) != 3 {
		t.Fatalf("status of the completed backup: location %q, manifest %q, %d shards", st.Location, st.Manifest, len(st.Shards))
	}
	for _, s := range st.Shards {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(s.Object)))
		if err != nil || fi.Size() != s.Size {
			t.Errorf("shard %d's file in the volume: %v (size %d, status says %d)", s.Shard, err, sizeOf(fi), s.Size)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(st.Manifest))); err != nil {
		t.Errorf("the manifest is not in the volume: %v", err)
	}
	storeGone(t, ns, "backups")

	// Restore into four masters, from the claim and the backup's folder.
	dst := newCluster(ns, "dst", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Masters = 4
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{
			PVC: &v1alpha1.PVCDestination{ClaimName: "backups"}, Path: strings.TrimSuffix(folder, "/")}}
	})
	create(t, dst)
	waitCondition(t, client.ObjectKeyFromObject(dst), v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	dpw, daddrs := startShoalPods(t, ns, "dst", 4)
	restored := waitCondition(t, client.ObjectKeyFromObject(dst), v1alpha1.ConditionRestored, metav1.ConditionTrue, v1alpha1.ReasonRestoreCompleted)
	if r := restored.Status.FromBackup; r.Phase != v1alpha1.RestoreCompleted || r.ShardsLoaded != 3 || r.KeysLoaded < 3000 || r.Location != st.Location {
		t.Fatalf("restore status %+v", r)
	}
	waitCondition(t, client.ObjectKeyFromObject(dst), v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonClusterOK)
	dc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: daddrs, Password: dpw})
	defer dc.Close() //nolint:errcheck // test client
	compareClusters(ctx, t, cc, dc)
	storeGone(t, ns, "backups")

	// A store left by an operator of another version (whose image the
	// fake kubelet does not run): the next backup gives it this
	// operator's pod template, then completes, and releases it.
	old := builders.StoreDeployment(ns, "backups", "shoal/operator:old", metav1.OwnerReference{})
	old.OwnerReferences = nil
	create(t, old)
	b2 := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b2"}, Spec: bk.Spec}
	create(t, b2)
	waitBackup(t, client.ObjectKeyFromObject(b2), func(b *v1alpha1.RedisBackup) error {
		if b.Status.Phase != v1alpha1.BackupCompleted || b.Status.Location != "pvc://backups/shoal/"+ns+"/src/b2/" {
			return fmt.Errorf("phase %s (%s), location %s", b.Status.Phase, b.Status.Reason, b.Status.Location)
		}
		return nil
	})
	storeGone(t, ns, "backups")
}

func sizeOf(fi os.FileInfo) int64 {
	if fi == nil {
		return -1
	}
	return fi.Size()
}

// TestScheduledBackupsToPVCArePruned runs spec.backup every 2 seconds to
// a PersistentVolumeClaim with a retention of 2 on a cluster of three
// real nodes: the scheduled RedisBackups complete through the claim's
// store, old ones are pruned through it (the event says so), and the
// volume holds the folders of the kept backups only.
func TestScheduledBackupsToPVCArePruned(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	rc := newCluster(ns, "sched", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@every 2s",
			Destination: v1alpha1.BackupDestination{PVC: &v1alpha1.PVCDestination{ClaimName: "nightly", SubPath: "runs"}},
			Retention:   v1alpha1.BackupRetention{Count: 2}}
	})
	create(t, rc)
	waitCondition(t, client.ObjectKeyFromObject(rc), v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	dir := t.TempDir()
	servePVCStore(t, ns, "nightly", dir)
	startShoalPods(t, ns, "sched", 3)
	eventually(t, func() error { return hasEvent(testEnv.c, ns, "BackupPruned", "RedisBackup sched-") })
	volume, err := backup.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error { return keptBackupsOnly(ctx, volume, ns, "sched", "runs") })
}
