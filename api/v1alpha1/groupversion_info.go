package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the group and version of the RedisCluster API. It is never
// modified.
var GroupVersion = schema.GroupVersion{Group: "redis.shoal.dev", Version: "v1alpha1"}

// AddToScheme adds the types of this group-version to a scheme. It is a plain
// function rather than a package-level SchemeBuilder so that nothing is
// registered as a side effect of importing the package.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &RedisCluster{}, &RedisClusterList{}, &RedisReplication{}, &RedisReplicationList{}, &RedisBackup{}, &RedisBackupList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
