package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
)

const (
	annStorageProvisioner     = "volume.kubernetes.io/storage-provisioner"
	annBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	annProvisionedBy          = "pv.kubernetes.io/provisioned-by"
	// claimPrefix and volumePrefix tag the work queue keys by kind.
	claimPrefix  = "pvc/"
	volumePrefix = "pv/"
)

type config struct {
	kubeconfig string
	root       string
	name       string
	resync     time.Duration
}

// provisioner holds the clients and listers; it keeps no other state.
type provisioner struct {
	cfg     config
	client  kubernetes.Interface
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
}

func main() {
	cfg := config{}
	flag.StringVar(&cfg.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster")
	flag.StringVar(&cfg.root, "root", "", "directory that holds one subdirectory per volume")
	flag.StringVar(&cfg.name, "name", "shoal.dev/hostpath", "provisioner name the StorageClass names")
	flag.DurationVar(&cfg.resync, "resync", 30*time.Second, "informer resync period (retries missed work)")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "provisioner:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	if cfg.kubeconfig == "" || cfg.root == "" || !filepath.IsAbs(cfg.root) {
		return errors.New("-kubeconfig and an absolute -root are required")
	}
	if err := os.MkdirAll(cfg.root, 0o755); err != nil {
		return err
	}
	rest, err := clientcmd.BuildConfigFromFlags("", cfg.kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(rest)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	factory := informers.NewSharedInformerFactory(client, cfg.resync)
	claimInformer := factory.Core().V1().PersistentVolumeClaims()
	volumeInformer := factory.Core().V1().PersistentVolumes()
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	defer queue.ShutDown()
	if _, err := claimInformer.Informer().AddEventHandler(enqueueHandler(queue, claimPrefix)); err != nil {
		return err
	}
	if _, err := volumeInformer.Informer().AddEventHandler(enqueueHandler(queue, volumePrefix)); err != nil {
		return err
	}
	p := &provisioner{cfg: cfg, client: client, claims: claimInformer.Lister(), volumes: volumeInformer.Lister()}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("cache for %v did not sync", typ)
		}
	}
	fmt.Fprintf(os.Stderr, "provisioner %s: serving, volumes under %s\n", cfg.name, cfg.root)
	go func() {
		<-ctx.Done()
		queue.ShutDown()
	}()
	for p.processNext(ctx, queue) {
	}
	return nil
}

// enqueueHandler adds prefix+key of every added or updated object.
func enqueueHandler(queue workqueue.TypedRateLimitingInterface[string], prefix string) cache.ResourceEventHandlerFuncs {
	add := func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			queue.Add(prefix + key)
		}
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, obj any) { add(obj) }}
}

func (p *provisioner) processNext(ctx context.Context, queue workqueue.TypedRateLimitingInterface[string]) bool {
	key, shutdown := queue.Get()
	if shutdown {
		return false
	}
	defer queue.Done(key)
	var err error
	switch {
	case strings.HasPrefix(key, claimPrefix):
		err = p.syncClaim(ctx, strings.TrimPrefix(key, claimPrefix))
	case strings.HasPrefix(key, volumePrefix):
		err = p.syncVolume(ctx, strings.TrimPrefix(key, volumePrefix))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "provisioner: %s: %v (retrying)\n", key, err)
		queue.AddRateLimited(key)
		return true
	}
	queue.Forget(key)
	return true
}

// syncClaim creates the volume of a claim handed to this provisioner.
func (p *provisioner) syncClaim(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	claim, err := p.claims.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !wantsVolume(claim, p.cfg.name) {
		return nil
	}
	volName := volumeName(claim)
	if _, err := p.volumes.Get(volName); err == nil {
		return nil
	}
	class, err := p.client.StorageV1().StorageClasses().Get(ctx, *claim.Spec.StorageClassName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	dir := filepath.Join(p.cfg.root, volName)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	// Pods run as non-root users of their images; the directory is theirs.
	if err := os.Chmod(dir, 0o777); err != nil {
		return err
	}
	_, err = p.client.CoreV1().PersistentVolumes().Create(ctx, newVolume(claim, class, dir, p.cfg.name), metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err == nil {
		fmt.Fprintf(os.Stderr, "provisioner: created %s for %s in %s\n", volName, key, dir)
	}
	return err
}

// syncVolume deletes a released volume this provisioner created.
func (p *provisioner) syncVolume(ctx context.Context, name string) error {
	vol, err := p.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !releasedForDeletion(vol, p.cfg.name) {
		return nil
	}
	dir, err := volumeDir(vol, p.cfg.root)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	err = p.client.CoreV1().PersistentVolumes().Delete(ctx, name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &vol.UID},
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	if err == nil {
		fmt.Fprintf(os.Stderr, "provisioner: deleted %s and %s\n", name, dir)
	}
	return err
}

// wantsVolume reports whether claim waits for a volume from provisioner name.
func wantsVolume(claim *corev1.PersistentVolumeClaim, name string) bool {
	if claim.DeletionTimestamp != nil || claim.Spec.VolumeName != "" || claim.Status.Phase != corev1.ClaimPending {
		return false
	}
	if claim.Spec.StorageClassName == nil || *claim.Spec.StorageClassName == "" {
		return false
	}
	ann := claim.Annotations
	return ann[annStorageProvisioner] == name || ann[annBetaStorageProvisioner] == name
}

// releasedForDeletion reports whether vol is ours, released and to be deleted.
func releasedForDeletion(vol *corev1.PersistentVolume, name string) bool {
	return vol.Annotations[annProvisionedBy] == name &&
		vol.DeletionTimestamp == nil &&
		vol.Status.Phase == corev1.VolumeReleased &&
		vol.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete
}

// volumeName is the name of the volume provisioned for claim.
func volumeName(claim *corev1.PersistentVolumeClaim) string {
	return "pvc-" + string(claim.UID)
}

// volumeDir is vol's hostPath, refused unless it is a direct child of root.
func volumeDir(vol *corev1.PersistentVolume, root string) (string, error) {
	if vol.Spec.HostPath == nil {
		return "", fmt.Errorf("volume %s has no hostPath", vol.Name)
	}
	dir := filepath.Clean(vol.Spec.HostPath.Path)
	if filepath.Dir(dir) != filepath.Clean(root) {
		return "", fmt.Errorf("volume %s: path %s is not under %s", vol.Name, dir, root)
	}
	return dir, nil
}

// newVolume is the hostPath volume at dir, pre-bound to claim.
func newVolume(claim *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, dir, name string) *corev1.PersistentVolume {
	reclaim := corev1.PersistentVolumeReclaimDelete
	if class.ReclaimPolicy != nil {
		reclaim = *class.ReclaimPolicy
	}
	hostPathType := corev1.HostPathDirectoryOrCreate
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        volumeName(claim),
			Annotations: map[string]string{annProvisionedBy: name},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: claim.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes: claim.Spec.AccessModes,
			ClaimRef: &corev1.ObjectReference{
				Kind:            "PersistentVolumeClaim",
				APIVersion:      "v1",
				Namespace:       claim.Namespace,
				Name:            claim.Name,
				UID:             claim.UID,
				ResourceVersion: claim.ResourceVersion,
			},
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              class.Name,
			MountOptions:                  class.MountOptions,
			VolumeMode:                    claim.Spec.VolumeMode,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &hostPathType},
			},
		},
	}
}
