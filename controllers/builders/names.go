package builders

import (
	"fmt"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Ports and paths of the data node.
const (
	// RedisPort is the client port of every node.
	RedisPort = 6379
	// BusPort is the cluster bus port of every node (RedisPort + 10000).
	BusPort = 16379
	// RedisPortName and BusPortName name the container and Service ports.
	RedisPortName = "redis"
	BusPortName   = "cluster-bus"
	// NodeBinary is the data node executable inside the node image.
	NodeBinary = "/shoal-node"
	// ConfigDir holds node.conf, mounted from the ConfigMap.
	ConfigDir = "/etc/shoal"
	// ConfigFileKey is the ConfigMap key and file name of the configuration.
	ConfigFileKey = "node.conf"
	// DataDir holds the snapshot, the append-only log and nodes.conf.
	DataDir = "/data"
	// NodesConfFile is the cluster-config-file, relative to DataDir: the
	// node's identity.
	NodesConfFile = "nodes.conf"
	// ContainerName is the name of the data node container.
	ContainerName = "node"
	// PasswordEnv is the environment variable carrying the password.
	PasswordEnv = "SHOAL_PASSWORD"
	// PodIPEnv is the environment variable carrying the pod IP.
	PodIPEnv = "POD_IP"
	// FieldManager is the server-side apply field manager of the operator.
	FieldManager = "shoal-operator"
)

// Labels the operator puts on everything it makes and selects pods by.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelCluster is the name of the RedisCluster a pod belongs to.
	LabelCluster = "redis.shoal.dev/cluster"
	// LabelShard is the index of the shard a pod belongs to.
	LabelShard = "redis.shoal.dev/shard"
	// AnnotationConfigHash is the hash of node.conf a pod was started with.
	AnnotationConfigHash = "redis.shoal.dev/config-hash"

	labelNameValue      = "shoal"
	componentNode       = "node"
	managedByValue      = "shoal-operator"
	dataVolumeName      = "data"
	configVolumeName    = "config"
	tmpVolumeName       = "tmp"
	shardNameInfix      = "-shard-"
	headlessNameTail    = "-nodes"
	configMapNameTail   = "-config"
	passwordSecretKey   = v1alpha1.DefaultAuthSecretKey
	defaultTermGraceSec = 30
)

// ConfigMapName is the name of the ConfigMap holding node.conf.
func ConfigMapName(rc *v1alpha1.RedisCluster) string { return rc.Name + configMapNameTail }

// HeadlessServiceName is the governing Service of the shard StatefulSets.
func HeadlessServiceName(rc *v1alpha1.RedisCluster) string { return rc.Name + headlessNameTail }

// ClientServiceName is the Service clients use to find a first node.
func ClientServiceName(rc *v1alpha1.RedisCluster) string { return rc.Name }

// ShardName is the name of the StatefulSet (and PodDisruptionBudget) of shard
// i, counted from 0.
func ShardName(rc *v1alpha1.RedisCluster, i int) string {
	return fmt.Sprintf("%s%s%d", rc.Name, shardNameInfix, i)
}

// PodName is the name of pod ordinal of shard i.
func PodName(rc *v1alpha1.RedisCluster, shard, ordinal int) string {
	return fmt.Sprintf("%s-%d", ShardName(rc, shard), ordinal)
}

// ClusterLabels are on every object of the cluster and select all its pods.
func ClusterLabels(rc *v1alpha1.RedisCluster) map[string]string {
	return map[string]string{
		LabelName:      labelNameValue,
		LabelInstance:  rc.Name,
		LabelComponent: componentNode,
		LabelManagedBy: managedByValue,
		LabelCluster:   rc.Name,
	}
}

// ClusterSelector selects all pods of the cluster.
func ClusterSelector(rc *v1alpha1.RedisCluster) map[string]string {
	return map[string]string{LabelCluster: rc.Name, LabelComponent: componentNode}
}

// ShardSelector selects the pods of shard i.
func ShardSelector(rc *v1alpha1.RedisCluster, i int) map[string]string {
	s := ClusterSelector(rc)
	s[LabelShard] = fmt.Sprint(i)
	return s
}

// ManagedByLabel is the label selector of every object the operator makes
// (used to narrow the manager's caches).
func ManagedByLabel() map[string]string { return map[string]string{LabelManagedBy: managedByValue} }

func shardLabels(rc *v1alpha1.RedisCluster, i int) map[string]string {
	l := ClusterLabels(rc)
	l[LabelShard] = fmt.Sprint(i)
	return l
}

// OwnerReference makes rc the controller of an object, so that deleting rc
// deletes it (garbage collection) and changes to it wake the reconciler.
func OwnerReference(rc *v1alpha1.RedisCluster) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{
		APIVersion:         v1alpha1.GroupVersion.String(),
		Kind:               "RedisCluster",
		Name:               rc.Name,
		UID:                rc.UID,
		Controller:         &t,
		BlockOwnerDeletion: &t,
	}
}

func objectMeta(rc *v1alpha1.RedisCluster, name string, labels map[string]string) metav1.ObjectMeta {
	return ownedMeta(OwnerReference(rc), rc.Namespace, name, labels)
}

// ownedMeta is the metadata of an object named name in namespace ns,
// controlled by owner.
func ownedMeta(owner metav1.OwnerReference, ns, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       ns,
		Labels:          labels,
		OwnerReferences: []metav1.OwnerReference{owner},
	}
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}
