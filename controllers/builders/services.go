package builders

import (
	"github.com/shoal-dev/shoal/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// HeadlessService governs the shard StatefulSets: it gives every pod a stable
// DNS name. Not-ready pods are published too, because nodes must reach each
// other before the cluster is formed and the pods count as ready.
func HeadlessService(rc *v1alpha1.RedisCluster) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: objectMeta(rc, HeadlessServiceName(rc), ClusterLabels(rc)),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: true,
			Selector:                 ClusterSelector(rc),
			Ports: []corev1.ServicePort{
				servicePort(RedisPortName, RedisPort),
				servicePort(BusPortName, BusPort),
			},
		},
	}
}

// ClientService is where cluster clients find a first node; they then follow
// the addresses in CLUSTER SLOTS / CLUSTER NODES.
func ClientService(rc *v1alpha1.RedisCluster) *corev1.Service {
	meta := objectMeta(rc, ClientServiceName(rc), ClusterLabels(rc))
	meta.Annotations = copyMap(rc.Spec.Service.Annotations)
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Type:     rc.Spec.Service.Type,
			Selector: ClusterSelector(rc),
			Ports:    []corev1.ServicePort{servicePort(RedisPortName, RedisPort)},
		},
	}
}

func servicePort(name string, port int32) corev1.ServicePort {
	return corev1.ServicePort{
		Name:       name,
		Port:       port,
		TargetPort: intstr.FromString(name),
		Protocol:   corev1.ProtocolTCP,
	}
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
