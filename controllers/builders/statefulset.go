package builders

import (
	"fmt"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/users"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// ShardStatefulSet is the StatefulSet of shard i: 1 + replicasPerMaster pods
// of the data node. Its update strategy is OnDelete, so that the operator
// alone decides which pod restarts when (replicas first, then a failover,
// then the old master). configHash is ConfigHash of the ConfigMap's node.conf.
func ShardStatefulSet(rc *v1alpha1.RedisCluster, i int, configHash string) *appsv1.StatefulSet {
	sts := &appsv1.StatefulSet{
		TypeMeta:   typeMeta("apps/v1", "StatefulSet"),
		ObjectMeta: objectMeta(rc, ShardName(rc, i), shardLabels(rc, i)),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(1 + rc.Spec.ReplicasPerMaster),
			ServiceName:         HeadlessServiceName(rc),
			PodManagementPolicy: appsv1.ParallelPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType},
			Selector:            &metav1.LabelSelector{MatchLabels: ShardSelector(rc, i)},
			Template:            podTemplate(rc, i, configHash),
		},
	}
	withDataClaim(&sts.Spec, rc.Spec.Storage, shardLabels(rc, i))
	return sts
}

// withDataClaim gives a StatefulSet the data volume claim of storage,
// unless it is ephemeral. The claims of ordinals removed by scaling in are
// deleted: a replica removed by scaling in was forgotten by the cluster and
// its nodes.conf must not come back (nor stale data on a later scale-up).
func withDataClaim(spec *appsv1.StatefulSetSpec, storage v1alpha1.StorageSpec, labels map[string]string) {
	if storage.Ephemeral {
		return
	}
	retention := appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	if storage.RetentionPolicy == v1alpha1.StorageRetentionRetain {
		retention = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
		TypeMeta: typeMeta("v1", "PersistentVolumeClaim"),
		ObjectMeta: metav1.ObjectMeta{
			Name:   dataVolumeName,
			Labels: labels,
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: storage.StorageClassName,
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: *storage.Size},
			},
		},
	}}
	spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: retention,
		WhenScaled:  appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
	}
}

func podTemplate(rc *v1alpha1.RedisCluster, i int, configHash string) corev1.PodTemplateSpec {
	labels := copyMap(rc.Spec.PodTemplate.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	for k, v := range shardLabels(rc, i) {
		labels[k] = v
	}
	annotations := copyMap(rc.Spec.PodTemplate.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[AnnotationConfigHash] = configHash

	podSC := rc.Spec.PodSecurityContext
	if podSC == nil {
		podSC = v1alpha1.DefaultPodSecurityContext()
	}
	affinity, spread := scheduling(rc, i)
	t := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
		Spec: corev1.PodSpec{
			Containers:                    []corev1.Container{nodeContainer(rc)},
			Volumes:                       volumes(rc),
			SecurityContext:               podSC,
			Affinity:                      affinity,
			Tolerations:                   rc.Spec.Scheduling.Tolerations,
			NodeSelector:                  rc.Spec.Scheduling.NodeSelector,
			TopologySpreadConstraints:     spread,
			PriorityClassName:             rc.Spec.PriorityClassName,
			ImagePullSecrets:              rc.Spec.ImagePullSecrets,
			AutomountServiceAccountToken:  ptr.To(false),
			EnableServiceLinks:            ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To[int64](defaultTermGraceSec),
		},
	}
	withTLS(rc.TLSSecretName(), &t.Spec, ContainerName)
	annotations[AnnotationPodTemplateHash] = PodTemplateHash(t)
	return t
}

// DefaultTopologySpread spreads the pods of shard i (its master and its
// replicas) across hosts and zones. ScheduleAnyway: on a cluster with one node
// the pods still run, they are just not spread.
func DefaultTopologySpread(rc *v1alpha1.RedisCluster, i int) []corev1.TopologySpreadConstraint {
	return spreadAcrossHostsAndZones(ShardSelector(rc, i))
}

// spreadAcrossHostsAndZones spreads the pods selector selects across hosts
// and zones, ScheduleAnyway.
func spreadAcrossHostsAndZones(selector map[string]string) []corev1.TopologySpreadConstraint {
	spread := func(key string) corev1.TopologySpreadConstraint {
		return corev1.TopologySpreadConstraint{
			MaxSkew:           1,
			TopologyKey:       key,
			WhenUnsatisfiable: corev1.ScheduleAnyway,
			LabelSelector:     &metav1.LabelSelector{MatchLabels: selector},
		}
	}
	return []corev1.TopologySpreadConstraint{
		spread(corev1.LabelHostname),
		spread(corev1.LabelTopologyZone),
	}
}

// NodeArgs is the command line of the data node, which takes redis-server's
// arguments: the configuration file first, then "--name value" overrides for
// the settings that come from the pod's volumes and environment (Kubernetes
// expands $(VAR) references in args).
func NodeArgs() []string {
	return []string{
		ConfigDir + "/" + ConfigFileKey,
		"--dir", DataDir,
		"--cluster-announce-ip", fmt.Sprintf("$(%s)", PodIPEnv),
		"--requirepass", fmt.Sprintf("$(%s)", PasswordEnv),
		"--masterauth", fmt.Sprintf("$(%s)", PasswordEnv),
	}
}

// NodeArgsOf is NodeArgs for rc: with spec.auth.defaultUser Disabled, the
// default user is off from the start and the operator's users are defined
// on the command line (defaultUserOffArgs) instead of requirepass.
func NodeArgsOf(rc *v1alpha1.RedisCluster) []string {
	if !rc.Spec.IsDefaultUserDisabled() {
		return NodeArgs()
	}
	return append(NodeArgs()[:5], defaultUserOffArgs(users.OperatorRules())...)
}

func nodeContainer(rc *v1alpha1.RedisCluster) corev1.Container {
	sc := rc.Spec.SecurityContext
	if sc == nil {
		sc = v1alpha1.DefaultContainerSecurityContext()
	}
	auth, _ := rc.AuthSecret()
	probe := func(cmd []string) []string { return cmd }
	if rc.Spec.IsDefaultUserDisabled() {
		probe = asOperator
	}
	c := corev1.Container{
		Name:            ContainerName,
		Image:           rc.Spec.Image,
		ImagePullPolicy: rc.Spec.ImagePullPolicy,
		Command:         []string{NodeBinary},
		Args:            NodeArgsOf(rc),
		Env: []corev1.EnvVar{
			{Name: PodIPEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: PasswordEnv, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: auth.Name},
				Key:                  auth.Key,
			}}},
		},
		Ports:           nodePorts(rc),
		Resources:       rc.Spec.Resources,
		SecurityContext: sc,
		VolumeMounts: []corev1.VolumeMount{
			{Name: configVolumeName, MountPath: ConfigDir, ReadOnly: true},
			{Name: dataVolumeName, MountPath: DataDir},
			{Name: tmpVolumeName, MountPath: "/tmp"},
		},
		Lifecycle: &corev1.Lifecycle{
			PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: probe(PreStopCommand())}},
		},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
	// The probes and the preStop hook run the node binary itself (the
	// image holds nothing else): see HealthCommand and PreStopCommand.
	withNodeProbes(&c, probe)
	if rc.Spec.IsDefaultUserDisabled() {
		c.Env = append(c.Env, operatorEnv(OperatorSecretName(rc))...)
	}
	return c
}

// withNodeProbes sets the data node container's startup, readiness and
// liveness probes: `shoal-node health`, its command passed through probe
// (asOperator when the default user is off).
func withNodeProbes(c *corev1.Container, probe func([]string) []string) {
	c.StartupProbe = &corev1.Probe{
		// Loading a large snapshot may take a while: allow 5 minutes.
		ProbeHandler:     execHandler(probe(HealthCommand(HealthLive))),
		PeriodSeconds:    2,
		TimeoutSeconds:   probeTimeoutSec,
		FailureThreshold: 150,
	}
	c.ReadinessProbe = &corev1.Probe{
		ProbeHandler:     execHandler(probe(HealthCommand(HealthReady))),
		PeriodSeconds:    5,
		TimeoutSeconds:   probeTimeoutSec,
		FailureThreshold: 3,
	}
	c.LivenessProbe = &corev1.Probe{
		// A minute without any reply: the node is stuck. Every exec
		// probe costs a runc exec (measured about 30 ms of CPU), so
		// liveness runs less often than readiness, whose period is
		// what a new pod waits for before the operator forms the
		// cluster.
		ProbeHandler:     execHandler(probe(HealthCommand(HealthLive))),
		PeriodSeconds:    20,
		TimeoutSeconds:   probeTimeoutSec,
		FailureThreshold: 3,
	}
}

// The checks of `shoal-node health`.
const (
	// HealthLive passes while the node answers PING at all.
	HealthLive = "live"
	// HealthReady passes when the node answers PONG, is not loading and is
	// not a replica in a full synchronization.
	HealthReady = "ready"
)

const (
	// probeTimeoutSec is the kubelet's deadline of one probe; the health
	// command's own deadline, healthCommandTimeout, is shorter, so that a
	// slow node is reported with the command's reason, not a kill.
	probeTimeoutSec      = 5
	healthCommandTimeout = "3s"
	// preStopTimeout bounds the hand-over: half the grace period, leaving the
	// other half for the node's own shutdown after SIGTERM.
	preStopTimeout = defaultTermGraceSec / 2
)

// HealthCommand is the exec probe running `shoal-node health check` against
// the node on 127.0.0.1, with the password from the container's environment.
func HealthCommand(check string) []string {
	return []string{NodeBinary, "health", check,
		"--port", fmt.Sprint(RedisPort), "--password-env", PasswordEnv, "--timeout", healthCommandTimeout}
}

// PreStopCommand is the preStop hook: `shoal-node prestop` hands a master's
// slots to its best in-sync replica (CLUSTER FAILOVER) before the node stops,
// within preStopTimeout seconds, and returns at once when there is nothing to
// hand over or no replica fit to take it.
func PreStopCommand() []string {
	return []string{NodeBinary, "prestop",
		"--port", fmt.Sprint(RedisPort), "--password-env", PasswordEnv, "--timeout", fmt.Sprintf("%ds", preStopTimeout)}
}

func execHandler(command []string) corev1.ProbeHandler {
	return corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: command}}
}

func volumes(rc *v1alpha1.RedisCluster) []corev1.Volume {
	vols := []corev1.Volume{
		{Name: configVolumeName, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMapName(rc)},
		}}},
		{Name: tmpVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if rc.Spec.Storage.Ephemeral {
		size := *rc.Spec.Storage.Size
		vols = append(vols, corev1.Volume{Name: dataVolumeName, VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &size},
		}})
	}
	return vols
}
