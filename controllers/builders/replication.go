package builders

import (
	"fmt"
	"maps"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/users"
)

// The objects of a RedisReplication: one StatefulSet of data nodes
// (<name>-node, cluster-enabled no), one of sentinels (<name>-sentinel),
// the headless Service both are named under (<name>-nodes), the client
// Services <name>-master (the pod labelled role=master), <name>-replicas
// (the pods labelled role=replica) and <name>-sentinel, the ConfigMap with
// node.conf and the sentinel.conf template, the auth Secret and the
// PodDisruptionBudgets.

// Ports, files and labels of a RedisReplication.
const (
	// SentinelPort is the port of every sentinel (Redis Sentinel's).
	SentinelPort = 26379
	// SentinelPortName names the sentinel container and Service port.
	SentinelPortName = "sentinel"
	// SentinelTemplateKey is the ConfigMap key of the sentinel.conf
	// template; the init container copies it to SentinelConfigFile, which
	// Sentinel rewrites with what it learns (epochs, replicas, sentinels).
	SentinelTemplateKey = "sentinel.conf"
	// SentinelConfigFile is the sentinel's own, writable configuration.
	SentinelConfigFile = DataDir + "/sentinel.conf"
	// SentinelContainerName is the name of the sentinel container.
	SentinelContainerName = "sentinel"
	// PodNameEnv carries the pod's name (for its stable DNS name).
	PodNameEnv = "POD_NAME"
	// LabelReplication is the name of the RedisReplication a pod belongs
	// to.
	LabelReplication = "redis.shoal.dev/replication"
	// LabelRole is the role the operator observed of a data node: master
	// or replica. The <name>-master and <name>-replicas Services select
	// by it.
	LabelRole = "redis.shoal.dev/role"
	// RoleMaster and RoleReplica are the values of LabelRole.
	RoleMaster  = "master"
	RoleReplica = "replica"

	componentSentinel   = "sentinel"
	replNodeNameTail    = "-node"
	replSentinelTail    = "-sentinel"
	replMasterSvcTail   = "-master"
	replReplicasSvcTail = "-replicas"
	clusterDomain       = "svc"
)

// ReplicationOwnerReference makes rr the controller of an object.
func ReplicationOwnerReference(rr *v1alpha1.RedisReplication) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         v1alpha1.GroupVersion.String(),
		Kind:               "RedisReplication",
		Name:               rr.Name,
		UID:                rr.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}

func replMeta(rr *v1alpha1.RedisReplication, name string, labels map[string]string) metav1.ObjectMeta {
	return ownedMeta(ReplicationOwnerReference(rr), rr.Namespace, name, labels)
}

// ReplicationNodeSetName is the StatefulSet of the data nodes.
func ReplicationNodeSetName(rr *v1alpha1.RedisReplication) string { return rr.Name + replNodeNameTail }

// ReplicationSentinelSetName is the StatefulSet of the sentinels.
func ReplicationSentinelSetName(rr *v1alpha1.RedisReplication) string {
	return rr.Name + replSentinelTail
}

// ReplicationHeadlessName is the headless Service that gives every data
// node and sentinel its stable DNS name.
func ReplicationHeadlessName(rr *v1alpha1.RedisReplication) string { return rr.Name + headlessNameTail }

// ReplicationMasterServiceName leads to the current master.
func ReplicationMasterServiceName(rr *v1alpha1.RedisReplication) string {
	return rr.Name + replMasterSvcTail
}

// ReplicationReplicasServiceName leads to the in-sync replicas.
func ReplicationReplicasServiceName(rr *v1alpha1.RedisReplication) string {
	return rr.Name + replReplicasSvcTail
}

// ReplicationSentinelServiceName leads to the sentinels.
func ReplicationSentinelServiceName(rr *v1alpha1.RedisReplication) string {
	return rr.Name + replSentinelTail
}

// ReplicationConfigMapName holds node.conf and the sentinel.conf template.
func ReplicationConfigMapName(rr *v1alpha1.RedisReplication) string {
	return rr.Name + configMapNameTail
}

// ReplicationPodName is the data node pod of ordinal o.
func ReplicationPodName(rr *v1alpha1.RedisReplication, o int) string {
	return fmt.Sprintf("%s-%d", ReplicationNodeSetName(rr), o)
}

// ReplicationPodHost is the stable DNS name of a pod of rr (a data node or
// a sentinel), under the headless Service: it survives pod IP changes.
func ReplicationPodHost(rr *v1alpha1.RedisReplication, pod string) string {
	return fmt.Sprintf("%s.%s.%s.%s", pod, ReplicationHeadlessName(rr), rr.Namespace, clusterDomain)
}

// ReplicationLabels are on every object of rr.
func ReplicationLabels(rr *v1alpha1.RedisReplication, component string) map[string]string {
	return map[string]string{
		LabelName:        labelNameValue,
		LabelInstance:    rr.Name,
		LabelComponent:   component,
		LabelManagedBy:   managedByValue,
		LabelReplication: rr.Name,
	}
}

// ReplicationNodeSelector selects the data node pods of rr.
func ReplicationNodeSelector(rr *v1alpha1.RedisReplication) map[string]string {
	return map[string]string{LabelReplication: rr.Name, LabelComponent: componentNode}
}

// ReplicationSentinelSelector selects the sentinel pods of rr.
func ReplicationSentinelSelector(rr *v1alpha1.RedisReplication) map[string]string {
	return map[string]string{LabelReplication: rr.Name, LabelComponent: componentSentinel}
}

// ReplicationRoleSelector selects the data nodes of rr labelled role.
func ReplicationRoleSelector(rr *v1alpha1.RedisReplication, role string) map[string]string {
	s := ReplicationNodeSelector(rr)
	s[LabelRole] = role
	return s
}

// ReplicationNodeConfig renders node.conf of the data nodes: no cluster,
// the client port, then spec.config over the defaults. REPLICAOF is not in
// the file: the operator seeds the first master and points new nodes at
// the current one; the sentinels do the rest.
func ReplicationNodeConfig(rr *v1alpha1.RedisReplication) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# node.conf of RedisReplication %s/%s, written by %s: do not edit.\n", rr.Namespace, rr.Name, managedByValue)
	owned := [][2]string{
		{"port", fmt.Sprint(RedisPort)},
		{"cluster-enabled", "no"},
	}
	if port := rr.MetricsPort(); port != 0 {
		owned = append(owned, [2]string{"metrics-port", fmt.Sprint(port)})
	}
	writeDirectives(&b, append(owned, tlsDirectives(rr.Spec.TLS, false)...), rr.Spec.Config)
	return b.String()
}

// ReplicationLiveConfig is what every data node must have of the live keys
// (CONFIG SET), as LiveConfig for a RedisCluster.
func ReplicationLiveConfig(rr *v1alpha1.RedisReplication) map[string]string {
	return liveConfigOf(rr.Spec.Config)
}

// ReplicationRestartConfigHash hashes node.conf without the live keys.
func ReplicationRestartConfigHash(rr *v1alpha1.RedisReplication) string {
	c := rr.DeepCopy()
	c.Spec.Config = maps.Clone(c.Spec.Config)
	maps.DeleteFunc(c.Spec.Config, func(k string, _ v1alpha1.ConfigValue) bool { return IsLiveConfig(k) })
	return ConfigHash(ReplicationNodeConfig(c))
}

// SentinelConfig renders the sentinel.conf template in Redis Sentinel's
// syntax: monitor the master at masterHost (a stable DNS name) under the
// RedisReplication's name, with the timing of spec.sentinel, resolving and
// announcing host names. The init container adds the per-pod lines
// (announce-ip, auth-pass) before Sentinel starts.
func SentinelConfig(rr *v1alpha1.RedisReplication, masterHost string) string {
	s := rr.Spec.Sentinel
	name := rr.SentinelMasterName()
	var b strings.Builder
	fmt.Fprintf(&b, "# sentinel.conf template of RedisReplication %s/%s, written by %s: do not edit.\n", rr.Namespace, rr.Name, managedByValue)
	if rr.Spec.TLS == nil {
		fmt.Fprintf(&b, "port %d\n", SentinelPort)
	} else {
		// TLS only, on the sentinel port; the links to the data nodes and
		// the other sentinels over TLS too (tls-replication).
		b.WriteString("port 0\n")
		fmt.Fprintf(&b, "tls-port %d\n", SentinelPort)
		for _, kv := range tlsFileDirectives(rr.Spec.TLS) {
			writeDirective(&b, kv[0], kv[1])
		}
	}
	fmt.Fprintf(&b, "dir %s\n", DataDir)
	if port := rr.MetricsPort(); port != 0 {
		fmt.Fprintf(&b, "metrics-port %d\n", port)
	}
	b.WriteString("sentinel resolve-hostnames yes\n")
	b.WriteString("sentinel announce-hostnames yes\n")
	fmt.Fprintf(&b, "sentinel monitor %s %s %d %d\n", name, masterHost, RedisPort, s.QuorumOrMajority())
	fmt.Fprintf(&b, "sentinel down-after-milliseconds %s %d\n", name, s.DownAfterMilliseconds)
	fmt.Fprintf(&b, "sentinel failover-timeout %s %d\n", name, s.FailoverTimeout)
	fmt.Fprintf(&b, "sentinel parallel-syncs %s %d\n", name, s.ParallelSyncs)
	return b.String()
}

// SentinelInitArgs are the init container's arguments: copy the template
// to the sentinel's writable file and add this pod's lines (Kubernetes
// expands the $(VAR) references from the container's environment).
// With the default user off, the sentinels authenticate as shoal-sentinel
// (sentinel auth-user) with the operator's password.
func SentinelInitArgs(rr *v1alpha1.RedisReplication) []string {
	args := []string{"install-file",
		"--from", ConfigDir + "/" + SentinelTemplateKey,
		"--to", SentinelConfigFile,
		"--append", fmt.Sprintf("sentinel announce-ip %s", ReplicationPodHost(rr, fmt.Sprintf("$(%s)", PodNameEnv))),
		"--append", fmt.Sprintf("sentinel announce-port %d", SentinelPort),
	}
	if !rr.Spec.IsDefaultUserDisabled() {
		return append(args, "--append", fmt.Sprintf("sentinel auth-pass %s $(%s)", rr.SentinelMasterName(), PasswordEnv))
	}
	return append(args,
		"--append", fmt.Sprintf("sentinel auth-user %s %s", rr.SentinelMasterName(), users.SentinelUser),
		"--append", fmt.Sprintf("sentinel auth-pass %s $(%s)", rr.SentinelMasterName(), OperatorPasswordEnv))
}

// ReplicationNodeArgs is the data node's command line: the configuration
// file, the data directory, the password, and the stable DNS name it
// announces to its master (replica-announce-ip), which the sentinels
// resolve. With the default user off, the password's place is taken by
// the default user reset and the operator's users (defaultUserOffArgs
// with ReplicationOperatorRules, and shoal-sentinel).
func ReplicationNodeArgs(rr *v1alpha1.RedisReplication) []string {
	args := []string{ConfigDir + "/" + ConfigFileKey, "--dir", DataDir}
	if rr.Spec.IsDefaultUserDisabled() {
		args = append(args, defaultUserOffArgs(users.ReplicationOperatorRules())...)
		args = append(args, systemUserArgs(users.SentinelUser, users.SentinelRules())...)
	} else {
		args = append(args,
			"--requirepass", fmt.Sprintf("$(%s)", PasswordEnv),
			"--masterauth", fmt.Sprintf("$(%s)", PasswordEnv))
	}
	return append(args, "--replica-announce-ip", ReplicationPodHost(rr, fmt.Sprintf("$(%s)", PodNameEnv)))
}

// ReplicationConfigMap holds node.conf and the sentinel.conf template
// monitoring masterHost.
func ReplicationConfigMap(rr *v1alpha1.RedisReplication, masterHost string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: replMeta(rr, ReplicationConfigMapName(rr), ReplicationLabels(rr, componentNode)),
		Data: map[string]string{
			ConfigFileKey:       ReplicationNodeConfig(rr),
			SentinelTemplateKey: SentinelConfig(rr, masterHost),
		},
	}
}

// ReplicationAuthSecret is the Secret the operator generates when
// spec.auth is unset.
func ReplicationAuthSecret(rr *v1alpha1.RedisReplication, password string) *corev1.Secret {
	ref, _ := rr.AuthSecret()
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: replMeta(rr, ref.Name, ReplicationLabels(rr, componentNode)),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{ref.Key: []byte(password)},
	}
}

// ReplicationServices are the headless Service and the master, replicas
// and sentinel Services.
func ReplicationServices(rr *v1alpha1.RedisReplication) []*corev1.Service {
	svc := func(name, component string, selector map[string]string, port corev1.ServicePort) *corev1.Service {
		return &corev1.Service{
			TypeMeta:   typeMeta("v1", "Service"),
			ObjectMeta: replMeta(rr, name, ReplicationLabels(rr, component)),
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeClusterIP,
				Selector: selector,
				Ports:    []corev1.ServicePort{port},
			},
		}
	}
	headless := &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: replMeta(rr, ReplicationHeadlessName(rr), ReplicationLabels(rr, componentNode)),
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			// Nodes and sentinels must resolve each other before they are
			// ready.
			PublishNotReadyAddresses: true,
			Selector:                 map[string]string{LabelReplication: rr.Name},
			Ports: []corev1.ServicePort{
				servicePort(RedisPortName, RedisPort),
				servicePort(SentinelPortName, SentinelPort),
			},
		},
	}
	return []*corev1.Service{
		headless,
		svc(ReplicationMasterServiceName(rr), componentNode, ReplicationRoleSelector(rr, RoleMaster), servicePort(RedisPortName, RedisPort)),
		svc(ReplicationReplicasServiceName(rr), componentNode, ReplicationRoleSelector(rr, RoleReplica), servicePort(RedisPortName, RedisPort)),
		svc(ReplicationSentinelServiceName(rr), componentSentinel, ReplicationSentinelSelector(rr), servicePort(SentinelPortName, SentinelPort)),
	}
}

// ReplicationPDBs limit voluntary disruptions of the data nodes and of the
// sentinels to spec.podDisruptionBudget.maxUnavailable pods each.
func ReplicationPDBs(rr *v1alpha1.RedisReplication) []*policyv1.PodDisruptionBudget {
	maxUnavailable := intstr.FromInt32(*rr.Spec.PodDisruptionBudget.MaxUnavailable)
	pdb := func(name, component string, selector map[string]string) *policyv1.PodDisruptionBudget {
		return &policyv1.PodDisruptionBudget{
			TypeMeta:   typeMeta("policy/v1", "PodDisruptionBudget"),
			ObjectMeta: replMeta(rr, name, ReplicationLabels(rr, component)),
			Spec: policyv1.PodDisruptionBudgetSpec{
				MaxUnavailable: &maxUnavailable,
				Selector:       &metav1.LabelSelector{MatchLabels: selector},
			},
		}
	}
	return []*policyv1.PodDisruptionBudget{
		pdb(ReplicationNodeSetName(rr), componentNode, ReplicationNodeSelector(rr)),
		pdb(ReplicationSentinelSetName(rr), componentSentinel, ReplicationSentinelSelector(rr)),
	}
}

// ReplicationNodeStatefulSet is the StatefulSet of the data nodes,
// OnDelete: the operator restarts replicas first, then fails the master
// over with SENTINEL FAILOVER, then restarts the old master.
func ReplicationNodeStatefulSet(rr *v1alpha1.RedisReplication, configHash string) *appsv1.StatefulSet {
	labels := ReplicationLabels(rr, componentNode)
	sts := &appsv1.StatefulSet{
		TypeMeta:   typeMeta("apps/v1", "StatefulSet"),
		ObjectMeta: replMeta(rr, ReplicationNodeSetName(rr), labels),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(rr.Spec.Replicas),
			ServiceName:         ReplicationHeadlessName(rr),
			PodManagementPolicy: appsv1.ParallelPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType},
			Selector:            &metav1.LabelSelector{MatchLabels: ReplicationNodeSelector(rr)},
		},
	}
	c := replContainer(rr, ContainerName, rr.Spec.Resources)
	c.Command = []string{NodeBinary}
	c.Args = ReplicationNodeArgs(rr)
	c.Ports = []corev1.ContainerPort{{Name: RedisPortName, ContainerPort: RedisPort, Protocol: corev1.ProtocolTCP}}
	if p := rr.MetricsPort(); p != 0 {
		c.Ports = append(c.Ports, metricsContainerPort(p))
	}
	probe := func(cmd []string) []string { return cmd }
	if rr.Spec.IsDefaultUserDisabled() {
		probe = asOperator
	}
	withNodeProbes(&c, probe)
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: probe(ReplicationPreStopCommand(rr))}}}
	vols := []corev1.Volume{configVolume(rr), {Name: tmpVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	if rr.Spec.Storage.Ephemeral {
		size := *rr.Spec.Storage.Size
		vols = append(vols, corev1.Volume{Name: dataVolumeName, VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &size},
		}})
	}
	sts.Spec.Template = replPodTemplate(rr, componentNode, configHash, []corev1.Container{c}, nil, vols, ContainerName)
	withDataClaim(&sts.Spec, rr.Spec.Storage, labels)
	return sts
}

// ReplicationPreStopCommand is the data nodes' preStop hook: `shoal-node
// prestop --sentinel` pauses a master's writes until a replica has them
// all, then asks a sentinel (through their Service) for SENTINEL FAILOVER
// and waits until the sentinels name the new master, so that a deleted or
// evicted master pod costs clients a hand-over instead of
// down-after-milliseconds and an election. Replicas return at once.
func ReplicationPreStopCommand(rr *v1alpha1.RedisReplication) []string {
	return append(PreStopCommand(),
		"--sentinel", fmt.Sprintf("%s:%d", ReplicationSentinelServiceName(rr), SentinelPort),
		"--master-name", rr.SentinelMasterName())
}

// ReplicationSentinelStatefulSet is the StatefulSet of the sentinels: an
// init container writes sentinel.conf from the ConfigMap's template into
// an emptyDir (Sentinel rewrites its file), then `shoal-node --sentinel`
// runs on it. A restarted sentinel pod starts from the template, whose
// monitor line the operator keeps on the current master, and learns the
// other sentinels, the replicas and the epoch again from hello messages.
func ReplicationSentinelStatefulSet(rr *v1alpha1.RedisReplication) *appsv1.StatefulSet {
	labels := ReplicationLabels(rr, componentSentinel)
	sts := &appsv1.StatefulSet{
		TypeMeta:   typeMeta("apps/v1", "StatefulSet"),
		ObjectMeta: replMeta(rr, ReplicationSentinelSetName(rr), labels),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(rr.Spec.Sentinel.Replicas),
			ServiceName:         ReplicationHeadlessName(rr),
			PodManagementPolicy: appsv1.ParallelPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			Selector:            &metav1.LabelSelector{MatchLabels: ReplicationSentinelSelector(rr)},
		},
	}
	mounts := []corev1.VolumeMount{
		{Name: configVolumeName, MountPath: ConfigDir, ReadOnly: true},
		{Name: dataVolumeName, MountPath: DataDir},
	}
	initC := replContainer(rr, "sentinel-config", corev1.ResourceRequirements{})
	initC.Command = []string{NodeBinary}
	initC.Args = SentinelInitArgs(rr)
	initC.VolumeMounts = mounts

	c := replContainer(rr, SentinelContainerName, rr.Spec.Sentinel.Resources)
	c.Command = []string{NodeBinary}
	c.Args = []string{"--sentinel", SentinelConfigFile}
	c.Env = c.Env[:1] // POD_NAME only: the password is in the file
	c.Ports = []corev1.ContainerPort{{Name: SentinelPortName, ContainerPort: SentinelPort, Protocol: corev1.ProtocolTCP}}
	if p := rr.MetricsPort(); p != 0 {
		c.Ports = append(c.Ports, metricsContainerPort(p))
	}
	c.VolumeMounts = mounts
	probe := func(period, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{
				Port: intstr.FromString(SentinelPortName),
			}},
			PeriodSeconds:    period,
			TimeoutSeconds:   probeTimeoutSec,
			FailureThreshold: failures,
		}
	}
	c.ReadinessProbe = probe(5, 3)
	c.LivenessProbe = probe(20, 3)
	vols := []corev1.Volume{configVolume(rr), {Name: dataVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	sts.Spec.Template = replPodTemplate(rr, componentSentinel, "", []corev1.Container{c}, []corev1.Container{initC}, vols, SentinelContainerName)
	return sts
}

func configVolume(rr *v1alpha1.RedisReplication) corev1.Volume {
	return corev1.Volume{Name: configVolumeName, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: ReplicationConfigMapName(rr)},
	}}}
}

// replContainer is a node-image container with the pod name and the
// password in its environment, and the operator's password with the
// default user off.
func replContainer(rr *v1alpha1.RedisReplication, name string, res corev1.ResourceRequirements) corev1.Container {
	sc := rr.Spec.SecurityContext
	if sc == nil {
		sc = v1alpha1.DefaultContainerSecurityContext()
	}
	auth, _ := rr.AuthSecret()
	env := []corev1.EnvVar{
		{Name: PodNameEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: PasswordEnv, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: auth.Name},
			Key:                  auth.Key,
		}}},
	}
	if rr.Spec.IsDefaultUserDisabled() {
		env = append(env, operatorEnv(ReplicationOperatorSecretName(rr))...)
	}
	return corev1.Container{
		Name:            name,
		Image:           rr.Spec.Image,
		ImagePullPolicy: rr.Spec.ImagePullPolicy,
		Env:             env,
		Resources:       res,
		SecurityContext: sc,
		VolumeMounts: []corev1.VolumeMount{
			{Name: configVolumeName, MountPath: ConfigDir, ReadOnly: true},
			{Name: dataVolumeName, MountPath: DataDir},
			{Name: tmpVolumeName, MountPath: "/tmp"},
		},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

// replPodTemplate is the pod template of a data node or a sentinel; the
// TLS Secret (spec.tls) is mounted into tlsContainer.
func replPodTemplate(rr *v1alpha1.RedisReplication, component, configHash string, containers, initContainers []corev1.Container, vols []corev1.Volume, tlsContainer string) corev1.PodTemplateSpec {
	labels := copyMap(rr.Spec.PodTemplate.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, ReplicationLabels(rr, component))
	annotations := copyMap(rr.Spec.PodTemplate.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	if configHash != "" {
		annotations[AnnotationConfigHash] = configHash
	}
	podSC := rr.Spec.PodSecurityContext
	if podSC == nil {
		podSC = v1alpha1.DefaultPodSecurityContext()
	}
	spread := rr.Spec.Scheduling.TopologySpreadConstraints
	if len(spread) == 0 {
		spread = spreadAcrossHostsAndZones(map[string]string{LabelReplication: rr.Name, LabelComponent: component})
	}
	t := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
		Spec: corev1.PodSpec{
			InitContainers:                initContainers,
			Containers:                    containers,
			Volumes:                       vols,
			SecurityContext:               podSC,
			Affinity:                      rr.Spec.Scheduling.Affinity,
			Tolerations:                   rr.Spec.Scheduling.Tolerations,
			NodeSelector:                  rr.Spec.Scheduling.NodeSelector,
			TopologySpreadConstraints:     spread,
			ImagePullSecrets:              rr.Spec.ImagePullSecrets,
			AutomountServiceAccountToken:  ptr.To(false),
			EnableServiceLinks:            ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To[int64](defaultTermGraceSec),
		},
	}
	withTLS(rr.TLSSecretName(), &t.Spec, tlsContainer)
	annotations[AnnotationPodTemplateHash] = PodTemplateHash(t)
	return t
}
