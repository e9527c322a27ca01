#!/usr/bin/env bash
# Runs the e2e suite against a kind cluster, for workstations with Docker:
#
#   KIND=bin/kind-v0.24.0 GINKGO=bin/ginkgo-v2.34.0 KIND_CLUSTER=shoal-e2e hack/kind-e2e.sh [ginkgo flags...]
#
# (`make test-e2e` calls it that way.) Creates the kind cluster $KIND_CLUSTER
# when missing and keeps it afterwards (delete it with
# `$KIND delete cluster --name $KIND_CLUSTER`), builds the image tarballs with
# `make images`, `kind load`s them, then runs ./test/e2e with KUBECONFIG set to
# that cluster. Images: NODE_IMG and OPERATOR_IMG (default shoal/{node,operator}:dev).
#
# The suite talks to pod IPs from the host. On Linux the pod CIDR is not
# routed to the kind node by default: with KIND_ROUTE_PODS=1 (the default on
# Linux) this script adds `ip route <podCIDR> via <kind node IP>` for the run
# (with sudo when not root) and removes it on exit. On macOS/Windows Docker
# Desktop that is impossible and the specs that dial pod IPs fail.
set -euo pipefail
cd "$(dirname "$0")/.."

KIND="${KIND:-kind}"
GINKGO="${GINKGO:-ginkgo}"
KIND_CLUSTER="${KIND_CLUSTER:-shoal-e2e}"
MAKE="${MAKE:-make}"
DIST="${DIST:-$(pwd)/dist}"
NODE_IMG="${NODE_IMG:-shoal/node:${IMG_TAG:-dev}}"
OPERATOR_IMG="${OPERATOR_IMG:-shoal/operator:${IMG_TAG:-dev}}"
if [[ "$(uname -s)" == Linux ]]; then KIND_ROUTE_PODS="${KIND_ROUTE_PODS:-1}"; else KIND_ROUTE_PODS=0; fi

log() { echo "kind-e2e: $*" >&2; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

workdir="$(mktemp -d)"
route=""
cleanup() {
  if [[ -n "$route" ]]; then
    log "removing route $route"
    # shellcheck disable=SC2086 # $route is "CIDR via IP", split on purpose
    as_root ip route del $route || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

clusters="$("$KIND" get clusters 2>/dev/null || true)"
if ! grep -qx "$KIND_CLUSTER" <<<"$clusters"; then
  log "creating kind cluster $KIND_CLUSTER"
  "$KIND" create cluster --name "$KIND_CLUSTER" --wait 180s
fi
kubeconfig="$workdir/kubeconfig"
"$KIND" get kubeconfig --name "$KIND_CLUSTER" >"$kubeconfig"

log "building images"
NODE_IMG="$NODE_IMG" OPERATOR_IMG="$OPERATOR_IMG" "$MAKE" images DIST="$DIST"
for tarball in "$DIST/images/node.tar" "$DIST/images/operator.tar"; do
  "$KIND" load image-archive "$tarball" --name "$KIND_CLUSTER"
done

if [[ "$KIND_ROUTE_PODS" == 1 ]]; then
  node="$KIND_CLUSTER-control-plane"
  node_ip="$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$node")"
  pod_cidr="$(docker exec "$node" kubectl --kubeconfig /etc/kubernetes/admin.conf \
    get node "$node" -o jsonpath='{.spec.podCIDR}')"
  if [[ -n "$node_ip" && -n "$pod_cidr" ]] && ! ip route show "$pod_cidr" | grep -q .; then
    log "routing $pod_cidr via kind node $node_ip for the run"
    as_root ip route add "$pod_cidr" via "$node_ip"
    route="$pod_cidr via $node_ip"
  fi
fi

log "running the e2e suite against kind cluster $KIND_CLUSTER"
KUBECONFIG="$kubeconfig" "$GINKGO" -v --timeout=40m "$@" ./test/e2e -- \
  -node-image="$NODE_IMG" -operator-image="$OPERATOR_IMG"
