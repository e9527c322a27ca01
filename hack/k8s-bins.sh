#!/usr/bin/env bash
# Builds Kubernetes binaries from source through the Go module proxy and
# caches them by version, then prints the bin directory on stdout.
#
#   hack/k8s-bins.sh [component...]
#
# Components: kube-apiserver kube-controller-manager kube-scheduler kubelet
# kube-proxy kubectl coredns. Without arguments all six Kubernetes binaries
# are built (CoreDNS only when asked for). Already-built binaries are skipped,
# so a second run is instant.
#
# Environment:
#   K8S_VERSION     Kubernetes version without "v" (default 1.34.4)
#   COREDNS_VERSION CoreDNS version without "v" (default 1.11.3)
#   SHOAL_CACHE     cache root (default ~/.cache/shoal); binaries land in
#                   $SHOAL_CACHE/k8s/v$K8S_VERSION/bin
#   BUILD_PARALLEL  go build -p (default 2)
#
# `go install k8s.io/kubernetes/cmd/X@v1.N.M` refuses to work because
# k8s.io/kubernetes replaces every staging module with ./staging/...; a
# throwaway wrapper module that requires k8s.io/kubernetes and replaces each
# staging module with its published v0.N.M version builds fine.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.34.4}"
COREDNS_VERSION="${COREDNS_VERSION:-1.11.3}"
SHOAL_CACHE="${SHOAL_CACHE:-$HOME/.cache/shoal}"
BUILD_PARALLEL="${BUILD_PARALLEL:-2}"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-buildvcs=false"

k8s_components=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
root="$SHOAL_CACHE/k8s/v$K8S_VERSION"
bindir="$root/bin"
wrapper="$root/wrapper"

log() { echo "k8s-bins: $*" >&2; }

# staging_version maps 1.34.4 to v0.34.4 (the staging modules' tag).
staging_version() { echo "v0.${1#*.}"; }

# write_wrapper writes the throwaway module that builds k8s.io/kubernetes
# commands with every ./staging replace pointed at the published module.
write_wrapper() {
  local gomod sv
  sv="$(staging_version "$K8S_VERSION")"
  mkdir -p "$wrapper"
  gomod="$(cd "$wrapper" && GONOSUMDB=k8s.io go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "$gomod" ]] || { log "cannot read go.mod of k8s.io/kubernetes@v$K8S_VERSION"; exit 1; }
  {
    echo "module shoal.local/k8s-bins"
    echo
    echo "go $(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    echo "replace ("
    grep -E '^[[:space:]]*k8s\.io/[^ ]+ => \./staging/' "$gomod" |
      awk -v sv="$sv" '{ printf "\t%s => %s %s\n", $1, $1, sv }'
    echo ")"
  } >"$wrapper/go.mod.new"
  mv "$wrapper/go.mod.new" "$wrapper/go.mod"
}

ldflags_for_k8s() {
  local major minor flags="-s -w" pkg
  major="${K8S_VERSION%%.*}"
  minor="${K8S_VERSION#*.}"
  minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

build_k8s() {
  local pkgs=() c out
  for c in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  [[ -f "$wrapper/go.mod" ]] || write_wrapper
  out="$(mktemp -d "$root/out.XXXXXX")"
  log "building ${*} v$K8S_VERSION (go build -p $BUILD_PARALLEL; minutes on 2 cores)"
  (cd "$wrapper" && GONOSUMDB=k8s.io GOFLAGS="-mod=mod -buildvcs=false" \
    go build -p "$BUILD_PARALLEL" -trimpath -ldflags "$(ldflags_for_k8s)" -o "$out/" "${pkgs[@]}")
  for c in "$@"; do mv "$out/$c" "$bindir/$c"; done
  rmdir "$out"
}

build_coredns() {
  local gobin
  gobin="$(mktemp -d "$root/out.XXXXXX")"
  log "building coredns v$COREDNS_VERSION"
  GOBIN="$gobin" go install -p "$BUILD_PARALLEL" -trimpath -ldflags "-s -w" \
    "github.com/coredns/coredns@v$COREDNS_VERSION"
  mv "$gobin/coredns" "$bindir/coredns"
  rmdir "$gobin"
}

main() {
  local want=("$@") missing=() c need_coredns=0
  ((${#want[@]})) || want=("${k8s_components[@]}")
  mkdir -p "$bindir"
  for c in "${want[@]}"; do
    case "$c" in
      kube-apiserver | kube-controller-manager | kube-scheduler | kubelet | kube-proxy | kubectl)
        [[ -x "$bindir/$c" ]] || missing+=("$c") ;;
      coredns)
        [[ -x "$bindir/coredns" ]] || need_coredns=1 ;;
      *)
        log "unknown component $c (want one of ${k8s_components[*]} coredns)"
        exit 2 ;;
    esac
  done
  if ((${#missing[@]})); then build_k8s "${missing[@]}"; fi
  if ((need_coredns)); then build_coredns; fi
  echo "$bindir"
}

main "$@"
