package builders

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// The store of a PVC backup destination: a Deployment of one pod of the
// operator's image that mounts the claim and serves its files over HTTP
// (backup.ObjectsHandler) to the bearers of a token kept in a Secret, and
// a ClusterIP Service in front of it. All three are named
// shoal-store-<claim> and owned (not controlled: several backups, and the
// restored resources, share one store per claim) by what uses them while
// they use it.
const (
	// StoreSubcommand is the operator binary's subcommand that serves a
	// directory (OperatorBinary StoreSubcommand --root --listen).
	StoreSubcommand = "store-serve"
	// OperatorBinary is the operator's executable in its image.
	OperatorBinary = "/shoal-operator"
	// StorePort is the store's HTTP port, on the pod and the Service.
	StorePort = 8080
	// StoreRoot is where the claim is mounted.
	StoreRoot = "/store"
	// StoreTokenEnv carries the token to the store container.
	StoreTokenEnv = "SHOAL_STORE_TOKEN"
	// StoreTokenKey is the token's key in the store's Secret.
	StoreTokenKey = "token"

	storeNamePrefix = "shoal-store-"
	storeVolume     = "backup"
	storePortName   = "http"
)

// StoreComponent is the component label of a store's objects.
const StoreComponent = "backup-store"

// StoreName is the name of the Deployment, Service and Secret of the
// store of claim.
func StoreName(claim string) string { return storeNamePrefix + claim }

// StoreSelector selects the store pod of claim.
func StoreSelector(claim string) map[string]string {
	return map[string]string{LabelName: labelNameValue, LabelComponent: StoreComponent, LabelInstance: StoreName(claim)}
}

func storeLabels(claim string) map[string]string {
	l := StoreSelector(claim)
	l[LabelManagedBy] = managedByValue
	return l
}

// StoreOwner is a reference to owner (a RedisBackup, RedisCluster or
// RedisReplication) that keeps a store while owner exists, without
// controlling it.
func StoreOwner(owner metav1.Object, kind string) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: v1alpha1.GroupVersion.String(), Kind: kind, Name: owner.GetName(), UID: owner.GetUID()}
}

func storeMeta(ns, claim string, owner metav1.OwnerReference) metav1.ObjectMeta {
	return ownedMeta(owner, ns, StoreName(claim), storeLabels(claim))
}

// StoreSecret holds the token of the store of claim.
func StoreSecret(ns, claim, token string, owner metav1.OwnerReference) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: storeMeta(ns, claim, owner),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{StoreTokenKey: []byte(token)},
	}
}

// StoreService is the ClusterIP Service of the store of claim.
func StoreService(ns, claim string, owner metav1.OwnerReference) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: storeMeta(ns, claim, owner),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: StoreSelector(claim),
			Ports: []corev1.ServicePort{{Name: storePortName, Port: StorePort, TargetPort: intstr.FromString(storePortName),
				Protocol: corev1.ProtocolTCP}},
		},
	}
}

// StoreDeployment runs the store of claim: one pod of image (the
// operator's) mounting the claim at StoreRoot, replaced by Recreate (a
// ReadWriteOnce claim is mounted by one pod at a time), Ready once it
// serves.
func StoreDeployment(ns, claim, image string, owner metav1.OwnerReference) *appsv1.Deployment {
	name := StoreName(claim)
	probe := &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString(storePortName)}},
		PeriodSeconds: 2,
	}
	container := corev1.Container{
		Name:    "store",
		Image:   image,
		Command: []string{OperatorBinary, StoreSubcommand, "--root=" + StoreRoot, "--listen=:" + strconv.Itoa(StorePort)},
		Env: []corev1.EnvVar{{Name: StoreTokenEnv, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: StoreTokenKey}}}},
		Ports:          []corev1.ContainerPort{{Name: storePortName, ContainerPort: StorePort, Protocol: corev1.ProtocolTCP}},
		ReadinessProbe: probe,
		VolumeMounts:   []corev1.VolumeMount{{Name: storeVolume, MountPath: StoreRoot}},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")}},
		SecurityContext: v1alpha1.DefaultContainerSecurityContext(),
	}
	return &appsv1.Deployment{
		TypeMeta:   typeMeta("apps/v1", "Deployment"),
		ObjectMeta: storeMeta(ns, claim, owner),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: StoreSelector(claim)},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: storeLabels(claim)},
				Spec: corev1.PodSpec{
					Containers:                    []corev1.Container{container},
					SecurityContext:               v1alpha1.DefaultPodSecurityContext(),
					AutomountServiceAccountToken:  ptr.To(false),
					TerminationGracePeriodSeconds: ptr.To[int64](10),
					Volumes: []corev1.Volume{{Name: storeVolume, VolumeSource: corev1.VolumeSource{
						PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}},
				},
			},
		},
	}
}

// StoreReady: the store's Deployment has a Ready pod of its current
// template.
func StoreReady(d *appsv1.Deployment) bool {
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.ReadyReplicas >= 1 && s.UpdatedReplicas >= 1
}
