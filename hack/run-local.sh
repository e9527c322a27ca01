#!/usr/bin/env bash
# The whole thing in one command (`make run-local`): a Kubernetes cluster (kind
# when a Docker engine answers, otherwise the single-node cluster of
# hack/local-cluster.sh), the operator and node images, the operator installed
# by its Helm chart, and the sample RedisCluster applied.
#   SHOAL_CLUSTER=local|kind|auto (default auto)
# Stop it with `make local-down` (local) or `kind delete cluster --name shoal`.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${SHOAL_CLUSTER:-auto}"
tag="${IMG_TAG:-dev}"
helm="${HELM:-bin/helm-v3.16.4}"
kind="${KIND:-bin/kind-v0.24.0}"
kind_cluster="${KIND_CLUSTER:-shoal}"
if [ "$mode" = auto ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then mode=kind; else mode=local; fi
fi
kubectl="$(hack/k8s-bins.sh kubectl)/kubectl"

[ -f dist/images/node.tar ] || hack/build-images.sh dist/images
case "$mode" in
  local)
    hack/local-cluster.sh up
    hack/local-cluster.sh load-image dist/images/node.tar
    hack/local-cluster.sh load-image dist/images/operator.tar
    KUBECONFIG="$(hack/local-cluster.sh kubeconfig)"
    ;;
  kind)
    [ -x "$kind" ] || make kind
    "$kind" get clusters | grep -qx "$kind_cluster" || "$kind" create cluster --name "$kind_cluster"
    "$kind" load image-archive dist/images/node.tar --name "$kind_cluster"
    "$kind" load image-archive dist/images/operator.tar --name "$kind_cluster"
    KUBECONFIG="$HOME/.kube/kind-$kind_cluster"
    "$kind" get kubeconfig --name "$kind_cluster" >"$KUBECONFIG"
    ;;
  *) echo "SHOAL_CLUSTER must be local, kind or auto" >&2; exit 2 ;;
esac
export KUBECONFIG

"$helm" upgrade --install shoal charts/shoal --namespace shoal-system --create-namespace \
  --set image.tag="$tag" --set nodeImage.tag="$tag" --wait --timeout 5m
"$kubectl" apply -f config/samples/redis_v1alpha1_rediscluster.yaml
echo "waiting for the sample RedisCluster to be Ready"
"$kubectl" wait --for=condition=Ready rediscluster/sample --timeout=10m
"$kubectl" get rediscluster sample -o wide
cat <<MSG

Shoal is running ($mode cluster).
  export KUBECONFIG=$KUBECONFIG
  $kubectl get rediscluster,statefulsets,pods
MSG
