package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/controllers/builders"
)

// CacheOptions narrows what the manager caches: the watched namespaces (all
// when empty), and of the kinds the operator makes, only the objects it made
// (its managed-by label), so that the operator neither holds every Secret
// and Pod of the cluster in memory nor needs to. Secrets it does not own are
// read through the API reader.
func CacheOptions(namespaces []string) cache.Options {
	managed := cache.ByObject{Label: labels.SelectorFromSet(builders.ManagedByLabel())}
	c := cache.Options{
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}:                   managed,
			&corev1.Secret{}:                managed,
			&corev1.ConfigMap{}:             managed,
			&corev1.Service{}:               managed,
			&appsv1.StatefulSet{}:           managed,
			&appsv1.Deployment{}:            managed,
			&policyv1.PodDisruptionBudget{}: managed,
			&networkingv1.NetworkPolicy{}:   managed,
		},
	}
	if len(namespaces) > 0 {
		c.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			c.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return c
}
