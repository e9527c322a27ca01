package main

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const testName = "shoal.dev/hostpath"

func pendingClaim(annotation string) *corev1.PersistentVolumeClaim {
	class := "standard"
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data-0", Namespace: "ns", UID: "u1",
			Annotations: map[string]string{annStorageProvisioner: annotation}},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
	}
}

func TestWantsVolume(t *testing.T) {
	if !wantsVolume(pendingClaim(testName), testName) {
		t.Fatal("pending claim for us: want true")
	}
	if wantsVolume(pendingClaim("other.io/x"), testName) {
		t.Fatal("claim of another provisioner: want false")
	}
	bound := pendingClaim(testName)
	bound.Spec.VolumeName = "pv-1"
	if wantsVolume(bound, testName) {
		t.Fatal("claim with a volume: want false")
	}
}

func TestNewVolumeIsPreBoundHostPath(t *testing.T) {
	retain := corev1.PersistentVolumeReclaimRetain
	class := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, ReclaimPolicy: &retain}
	vol := newVolume(pendingClaim(testName), class, "/state/volumes/pvc-u1", testName)
	if vol.Name != "pvc-u1" || vol.Spec.ClaimRef.UID != "u1" || vol.Spec.ClaimRef.Namespace != "ns" {
		t.Fatalf("not pre-bound to the claim: %+v", vol.Spec.ClaimRef)
	}
	if got := vol.Spec.Capacity[corev1.ResourceStorage]; got.String() != "1Gi" {
		t.Fatalf("capacity %s, want 1Gi", got.String())
	}
	if vol.Spec.PersistentVolumeReclaimPolicy != retain || vol.Spec.StorageClassName != "standard" {
		t.Fatalf("class settings not copied: %+v", vol.Spec)
	}
	if vol.Spec.HostPath == nil || vol.Spec.HostPath.Path != "/state/volumes/pvc-u1" {
		t.Fatalf("hostPath %+v", vol.Spec.HostPath)
	}
}

func TestVolumeDirRefusesPathsOutsideRoot(t *testing.T) {
	vol := &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{
		HostPath: &corev1.HostPathVolumeSource{Path: "/etc"}}}}
	if _, err := volumeDir(vol, "/state/volumes"); err == nil {
		t.Fatal("/etc accepted as a volume directory")
	}
	vol.Spec.HostPath.Path = "/state/volumes/pvc-u1"
	if dir, err := volumeDir(vol, "/state/volumes/"); err != nil || dir != "/state/volumes/pvc-u1" {
		t.Fatalf("got %q, %v", dir, err)
	}
}

func TestReleasedForDeletion(t *testing.T) {
	vol := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{annProvisionedBy: testName}},
		Spec:       corev1.PersistentVolumeSpec{PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete},
		Status:     corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased},
	}
	if !releasedForDeletion(vol, testName) {
		t.Fatal("released volume of ours: want true")
	}
	vol.Status.Phase = corev1.VolumeBound
	if releasedForDeletion(vol, testName) {
		t.Fatal("bound volume: want false")
	}
}
