#!/usr/bin/env bash
# Prepares a KUBEBUILDER_ASSETS directory for controller-runtime's envtest
# without downloads and prints its path (only the path, on stdout):
#
#   KUBEBUILDER_ASSETS="$(hack/envtest-assets.sh)" go test ./...
#
# etcd comes from Debian's etcd-server (installed with apt-get when missing);
# kube-apiserver and kubectl are built from source by hack/k8s-bins.sh.
# The directory is $SHOAL_CACHE/envtest/$K8S_VERSION (default
# ~/.cache/shoal/envtest/1.34.4). Progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=hack/lib/common.sh
source "$here/lib/common.sh"
SHOAL_LOG_PREFIX=envtest-assets

K8S_VERSION="${K8S_VERSION:-1.34.4}"
SHOAL_CACHE="${SHOAL_CACHE:-$HOME/.cache/shoal}"
assets="$SHOAL_CACHE/envtest/$K8S_VERSION"

if [[ ! -x "$assets/etcd" || ! -x "$assets/kube-apiserver" || ! -x "$assets/kubectl" ]]; then
  ensure_packages /usr/bin/etcd etcd-server
  bindir="$(K8S_VERSION="$K8S_VERSION" SHOAL_CACHE="$SHOAL_CACHE" "$here/k8s-bins.sh" kube-apiserver kubectl)"
  mkdir -p "$assets"
  ln -sfn /usr/bin/etcd "$assets/etcd"
  ln -sfn "$bindir/kube-apiserver" "$assets/kube-apiserver"
  ln -sfn "$bindir/kubectl" "$assets/kubectl"
  log "assets ready in $assets"
fi
echo "$assets"
