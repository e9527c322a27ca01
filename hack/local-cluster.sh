#!/usr/bin/env bash
# A single-node Kubernetes with a real kubelet on this machine, without Docker.
#
#   hack/local-cluster.sh up                  start it (idempotent; fast when running)
#   hack/local-cluster.sh down                stop it and leave the machine as found
#   hack/local-cluster.sh load-image TARBALL  import an image tarball into containerd (k8s.io)
#   hack/local-cluster.sh kubeconfig          print the admin kubeconfig path
#   hack/local-cluster.sh status              show processes, node and pods
#   hack/local-cluster.sh verify-clean        exit 1 listing anything left behind
#
# Parts: containerd + runc + CNI plugins (Debian packages, installed when
# missing) started by hand with their own config; etcd (Debian); kube-apiserver,
# controller-manager, scheduler, kubelet, kube-proxy (iptables mode) and CoreDNS
# built from source by hack/k8s-bins.sh; a bridge CNI with host-local IPAM; a
# default StorageClass "standard" served by hack/provisioner (hostPath volumes
# under the state dir). Pod IPs and ClusterIPs are reachable from the host.
#
# Everything lives under $SHOAL_K8S_STATE (default /var/lib/shoal-k8s) and
# $SHOAL_K8S_RUN (default /run/shoal-k8s); every process started here records
# its PID in $SHOAL_K8S_STATE/pids. What the machine looked like before `up`
# (sysctls, iptables rules, links, host dirs) is kept in
# $SHOAL_CACHE/local-cluster/baseline for `down` and `verify-clean`.
# Needs root (it runs a kubelet).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=hack/lib/common.sh
source "$here/lib/common.sh"
SHOAL_LOG_PREFIX=local-cluster

K8S_VERSION="${K8S_VERSION:-1.34.4}"
SHOAL_CACHE="${SHOAL_CACHE:-$HOME/.cache/shoal}"
STATE="${SHOAL_K8S_STATE:-/var/lib/shoal-k8s}"
RUN="${SHOAL_K8S_RUN:-/run/shoal-k8s}"
CACHE="$SHOAL_CACHE/local-cluster"
BASELINE="$CACHE/baseline"

NODE_NAME=shoal-local
BRIDGE=shoal0
CLUSTER_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
ETCD_PORT=23790
ETCD_PEER_PORT=23800
API_PORT=6443
PAUSE_IMAGE=shoal.local/pause:1
COREDNS_VERSION=1.11.3
COREDNS_IMAGE="shoal.local/coredns:$COREDNS_VERSION"
PROVISIONER_NAME=shoal.dev/hostpath

# Components in start order; `down` stops them in reverse.
COMPONENTS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy provisioner)
# Sysctls the kubelet, kube-proxy and we change; restored by `down`.
SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.ipv4.conf.all.route_localnet)
# Host paths containerd, CNI and the kubelet create outside our dirs.
HOST_DIRS=(/var/lib/cni /run/containerd /run/netns /var/log/containers /var/log/pods
  /var/lib/kubelet /var/lib/containerd /etc/cni)
IPT_TABLES=(filter nat mangle raw)

BIN="$SHOAL_CACHE/k8s/v$K8S_VERSION/bin"
PKI="$STATE/pki"
KUBECONFIG_ADMIN="$STATE/admin.kubeconfig"
CONTAINERD_SOCK="$RUN/containerd/containerd.sock"

kubectl_admin() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }
ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

require_root() { [[ $EUID -eq 0 ]] || die "must run as root (it runs a kubelet and containerd)"; }

# ---------------------------------------------------------------- processes

pidfile() { echo "$STATE/pids/$1.pid"; }

# start_proc NAME BINARY ARGS... runs BINARY in its own session, logging to
# $STATE/logs/NAME.log; the PID file holds the PID of BINARY itself.
start_proc() {
  local name="$1" pf
  shift
  pf="$(pidfile "$name")"
  readlink -f "$1" >"$STATE/pids/$name.exe"
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pf" "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null &
  wait_for 10 "$name to record its PID" test -s "$pf"
}

# proc_pid NAME prints the PID of a running component we started.
proc_pid() {
  local pf pid exe want
  pf="$(pidfile "$1")"
  [[ -s "$pf" ]] || return 1
  pid="$(cat "$pf")"
  want="$(cat "$STATE/pids/$1.exe" 2>/dev/null)" || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null)" || return 1
  [[ "${exe% (deleted)}" == "$want" ]] || return 1
  echo "$pid"
}

proc_running() { proc_pid "$1" >/dev/null; }

# stop_pids PID...: SIGTERM to all, then SIGKILL to those alive after 20s.
stop_pids() {
  local pid
  (($#)) || return 0
  kill -TERM "$@" 2>/dev/null || true
  for pid in "$@"; do
    if ! wait_for 20 "pid $pid to exit" bash -c "! kill -0 $pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      wait_for 10 "pid $pid to die" bash -c "! kill -0 $pid" || true
    fi
  done
}

# stop_procs NAME... stops the named components (those running) together.
stop_procs() {
  local name pid pids=()
  for name in "$@"; do
    if pid="$(proc_pid "$name")"; then
      log "stopping $name (pid $pid)"
      pids+=("$pid")
    fi
  done
  stop_pids "${pids[@]}"
  for name in "$@"; do rm -f "$(pidfile "$name")" "$STATE/pids/$name.exe"; done
}

# shim_pids prints the PIDs of containerd shims serving our containerd.
shim_pids() {
  local p
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/exe" 2>/dev/null)" == */containerd-shim* ]] || continue
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$CONTAINERD_SOCK"; then
      echo "${p#/proc/}"
    fi
  done
}

# ---------------------------------------------------------------- baseline

sysctl_path() { echo "/proc/sys/${1//.//}"; }

read_sysctl() {
  local p
  p="$(sysctl_path "$1")"
  if [[ -r "$p" ]]; then cat "$p"; else echo "-"; fi
}

write_sysctl() {
  local p
  p="$(sysctl_path "$1")"
  if [[ -w "$p" && "$2" != "-" ]]; then echo "$2" >"$p"; fi
}

ipt_rules() {
  local ipt t
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for t in "${IPT_TABLES[@]}"; do
      "$ipt" -w 5 -t "$t" -S 2>/dev/null | grep -v '^-P ' | sed "s|^|$ipt -t $t |" || true
    done
  done
}

link_names() { ip -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//' | sort; }

# record_baseline saves what the machine looks like before a fresh `up`.
record_baseline() {
  local s d
  mkdir -p "$BASELINE"
  for s in "${SYSCTLS[@]}"; do echo "$s $(read_sysctl "$s")"; done >"$BASELINE/sysctls"
  for d in "${HOST_DIRS[@]}"; do [[ -e "$d" ]] && echo "$d"; done >"$BASELINE/dirs" || true
  ipt_rules >"$BASELINE/iptables"
  link_names >"$BASELINE/links"
}

# ---------------------------------------------------------------- build

host_ip() {
  local ip
  ip="$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1)"
  [[ -n "$ip" ]] || ip="$(ip -4 -o addr show scope global | awk '{ sub("/.*", "", $4); print $4; exit }')"
  [[ -n "$ip" ]] || die "no global IPv4 address: pods need one to reach the API server"
  echo "$ip"
}

# build_tool NAME [go build flags] builds ./hack/NAME into $CACHE/bin unless
# the binary is newer than its sources and go.sum.
build_tool() {
  local name="$1" out="$CACHE/bin/$1"
  shift
  if [[ -x "$out" ]] && [[ -z "$(find "$repo/hack/$name" "$repo/go.sum" -newer "$out" -print -quit)" ]]; then
    return 0
  fi
  log "building hack/$name"
  (cd "$repo" && GOTOOLCHAIN=local go build "$@" -o "$out" "./hack/$name")
}

ensure_tools() {
  ensure_packages containerd containerd runc runc /usr/lib/cni/bridge containernetworking-plugins \
    iptables iptables /usr/bin/etcd etcd-server openssl openssl curl curl ip iproute2
  BIN="$("$here/k8s-bins.sh" kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl coredns)"
  mkdir -p "$CACHE/bin" "$CACHE/images"
  build_tool imagetool
  build_tool provisioner
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 build_tool pause -trimpath -ldflags "-s -w"
  if [[ ! -s "$CACHE/images/pause.tar" || "$CACHE/bin/pause" -nt "$CACHE/images/pause.tar" ]]; then
    "$CACHE/bin/imagetool" -tag "$PAUSE_IMAGE" -out "$CACHE/images/pause.tar" \
      -entrypoint /pause -file "$CACHE/bin/pause=/pause"
  fi
  if [[ ! -s "$CACHE/images/coredns.tar" || "$BIN/coredns" -nt "$CACHE/images/coredns.tar" ]]; then
    "$CACHE/bin/imagetool" -tag "$COREDNS_IMAGE" -out "$CACHE/images/coredns.tar" -user 0:0 \
      -entrypoint /coredns -ports 53/udp,53/tcp,9153/tcp -file "$BIN/coredns=/coredns"
  fi
}

# ---------------------------------------------------------------- pki + configs

gen_pki() {
  local hip="$1"
  mkdir -p "$PKI"
  (
    cd "$PKI"
    # ECDSA P-256 keys: RSA key generation costs seconds on a loaded machine.
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    key ca.key
    openssl req -x509 -new -key ca.key -days 3650 -subj "/CN=shoal-local-ca" -out ca.crt 2>/dev/null
    key sa.key
    openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
    sign() { # sign NAME SUBJECT EXTENSIONS [CA]
      local ca="${4:-ca}"
      key "$1.key"
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -days 3650 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    sign apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$API_SERVICE_IP,IP:$hip"
    sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    # The aggregation layer (APIService, e.g. metrics-server's metrics API for
    # a HorizontalPodAutoscaler): the API server proxies to extension API
    # servers with a client certificate of its own CA.
    key front-proxy-ca.key
    openssl req -x509 -new -key front-proxy-ca.key -days 3650 -subj "/CN=shoal-local-front-proxy-ca" -out front-proxy-ca.crt 2>/dev/null
    sign front-proxy-client "/CN=front-proxy-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth" front-proxy-ca
  )
  # Static bearer tokens, one identity per component (token,user,uid,"groups").
  local who
  : >"$PKI/tokens.csv"
  for who in admin:system:masters kube-controller-manager: kube-scheduler: kube-proxy: \
    "node:system:nodes" shoal-provisioner:; do
    local user="${who%%:*}" group="${who#*:}"
    case "$user" in
      admin) ;;
      node) user="system:node:$NODE_NAME" ;;
      *) user="system:$user" ;;
    esac
    printf '%s,%s,%s,"%s"\n' "$(openssl rand -hex 16)" "$user" "$user" "$group" >>"$PKI/tokens.csv"
  done
  chmod 600 "$PKI"/*.key "$PKI/tokens.csv"
}

# write_kubeconfig FILE USER: a kubeconfig with USER's token.
write_kubeconfig() {
  local file="$1" user="$2" token
  token="$(awk -F, -v u="$user" '$2 == u { print $1 }' "$PKI/tokens.csv")"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: shoal-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $user
  user:
    token: $token
contexts:
- name: shoal-local
  context: {cluster: shoal-local, user: $user}
current-context: shoal-local
EOF
  chmod 600 "$file"
}

write_configs() {
  mkdir -p "$STATE/containerd" "$RUN/containerd" "$STATE/cni/net.d" "$STATE/cni/networks" \
    "$STATE/kubelet" "$STATE/pod-logs" "$STATE/volumes" "$STATE/etcd" "$RUN/runc"
  write_kubeconfig "$KUBECONFIG_ADMIN" admin
  write_kubeconfig "$STATE/controller-manager.kubeconfig" system:kube-controller-manager
  write_kubeconfig "$STATE/scheduler.kubeconfig" system:kube-scheduler
  write_kubeconfig "$STATE/kube-proxy.kubeconfig" system:kube-proxy
  write_kubeconfig "$STATE/kubelet.kubeconfig" "system:node:$NODE_NAME"
  write_kubeconfig "$STATE/provisioner.kubeconfig" system:shoal-provisioner

  cat >"$STATE/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd"
state = "$RUN/containerd"
oom_score = 0
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$RUN/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd-opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$RUN/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
    max_conf_num = 1
EOF

  cat >"$STATE/cni/net.d/10-shoal.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "shoal",
  "plugins": [{
    "type": "bridge",
    "bridge": "$BRIDGE",
    "isGateway": true,
    "ipMasq": true,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "ranges": [[{"subnet": "$NODE_POD_CIDR"}]],
      "routes": [{"dst": "0.0.0.0/0"}],
      "dataDir": "$STATE/cni/networks"
    }
  }]
}
EOF

  cat >"$STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
podLogsDir: $STATE/pod-logs
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
clusterDomain: cluster.local
clusterDNS: [$DNS_SERVICE_IP]
podCIDR: $NODE_POD_CIDR
resolvConf: /etc/resolv.conf
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%"
  nodefs.inodesFree: "1%"
  imagefs.available: "1%"
evictionPressureTransitionPeriod: 5s
maxPods: 200
nodeStatusUpdateFrequency: 5s
EOF

  cat >"$STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $CLUSTER_CIDR
clientConnection:
  kubeconfig: $STATE/kube-proxy.kubeconfig
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
iptables:
  localhostNodePorts: false
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
}

# ---------------------------------------------------------------- up

start_containerd() {
  start_proc containerd "$(command -v containerd)" --config "$STATE/containerd.toml"
}

import_cluster_images() {
  wait_for 60 "containerd" ctr --address "$CONTAINERD_SOCK" version
  ctr_k8s images import "$CACHE/images/pause.tar" >&2
  ctr_k8s images import "$CACHE/images/coredns.tar" >&2
}

start_etcd() {
  start_proc etcd /usr/bin/etcd --name shoal-local --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "shoal-local=http://127.0.0.1:$ETCD_PEER_PORT" --quota-backend-bytes 4294967296 \
    --log-level warn
  wait_for 30 "etcd" curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
}

start_apiserver() {
  local hip="$1"
  start_proc kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --advertise-address "$hip" --bind-address 0.0.0.0 --secure-port "$API_PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" --token-auth-file "$PKI/tokens.csv" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --allow-privileged=true \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
    --enable-aggregator-routing=true \
    --profiling=false --v=1
}

start_control_plane() {
  start_proc kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --allocate-node-cidrs=true --cluster-cidr "$CLUSTER_CIDR" --node-cidr-mask-size 24 \
    --service-cluster-ip-range "$SERVICE_CIDR" --profiling=false --v=1
  start_proc kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --profiling=false --v=1
}

start_node() {
  local hip="$1"
  start_proc kubelet "$BIN/kubelet" --config "$STATE/kubelet.yaml" \
    --kubeconfig "$STATE/kubelet.kubeconfig" --root-dir "$STATE/kubelet" \
    --hostname-override "$NODE_NAME" --node-ip "$hip" --v=1
  start_proc kube-proxy "$BIN/kube-proxy" --config "$STATE/kube-proxy.yaml" --v=1
  start_proc provisioner "$CACHE/bin/provisioner" --kubeconfig "$STATE/provisioner.kubeconfig" \
    --root "$STATE/volumes" --name "$PROVISIONER_NAME"
}

apply_addons() {
  sed -e "s|@PROVISIONER_NAME@|$PROVISIONER_NAME|g" -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" \
    -e "s|@DNS_SERVICE_IP@|$DNS_SERVICE_IP|g" "$here/lib/local-cluster-addons.yaml" |
    kubectl_admin apply -f - >&2
}

# kernel_has reports whether the feature of module $1 is there (built in or loaded).
kernel_has() {
  case "$1" in
    br_netfilter) [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] ;;
    overlay) grep -qw overlay /proc/filesystems ;;
  esac
}

# load_modules loads br_netfilter (bridged pod traffic through kube-proxy's
# rules) and overlay (containerd's snapshotter) when they are neither built in
# nor loaded, and records them so `down` unloads them again.
load_modules() {
  local m
  : >"$BASELINE/modules"
  for m in br_netfilter overlay; do
    kernel_has "$m" && continue
    ensure_packages modprobe kmod
    modprobe "$m" || die "cannot load kernel module $m"
    echo "$m" >>"$BASELINE/modules"
  done
}

set_sysctls() {
  write_sysctl net.ipv4.ip_forward 1
  write_sysctl net.bridge.bridge-nf-call-iptables 1
  write_sysctl net.bridge.bridge-nf-call-ip6tables 1
}

# check_ports_free fails when another program listens on a port we need.
check_ports_free() {
  local port busy
  for port in "$API_PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" 10248 10249 10250 10256 10257 10259; do
    busy="$(ss -Htln "sport = :$port" 2>/dev/null)"
    [[ -z "$busy" ]] || die "port $port is in use: $busy"
  done
}

cluster_healthy() {
  local c
  [[ -f "$KUBECONFIG_ADMIN" ]] || return 1
  for c in "${COMPONENTS[@]}"; do proc_running "$c" || return 1; done
  kubectl_admin get --raw /readyz >/dev/null 2>&1
}

cmd_up() {
  require_root
  if cluster_healthy; then
    log "already running (kubeconfig $KUBECONFIG_ADMIN)"
    return 0
  fi
  if [[ -e "$STATE" || -e "$RUN" ]]; then
    log "found a stopped or partial cluster: cleaning it up first"
    cmd_down
  fi
  local t0=$SECONDS hip
  ensure_tools
  hip="$(host_ip)"
  if ip link show "$BRIDGE" >/dev/null 2>&1; then die "link $BRIDGE already exists"; fi
  check_ports_free
  record_baseline
  mkdir -p "$STATE/pids" "$STATE/logs" "$RUN"
  log "starting (node $NODE_NAME, host IP $hip, state $STATE)"
  gen_pki "$hip"
  write_configs
  load_modules
  set_sysctls
  # containerd and the images come up while etcd and the API server start.
  start_containerd
  start_etcd
  start_apiserver "$hip"
  import_cluster_images
  log "containerd ready at $((SECONDS - t0))s"
  wait_for 120 "kube-apiserver /readyz" kubectl_admin get --raw /readyz
  log "kube-apiserver ready at $((SECONDS - t0))s"
  start_control_plane
  start_node "$hip"
  apply_addons
  wait_for 120 "node $NODE_NAME Ready" kubectl_admin wait --for=condition=Ready "node/$NODE_NAME" --timeout=5s
  log "node Ready at $((SECONDS - t0))s"
  wait_for 120 "CoreDNS" kubectl_admin -n kube-system rollout status deployment/coredns --timeout=5s
  log "up in $((SECONDS - t0))s; KUBECONFIG=$KUBECONFIG_ADMIN"
}

# ---------------------------------------------------------------- down

# drain_pods deletes every pod and waits for the kubelet to tear them down
# through the CRI (CNI DEL, netns and volume unmounts). Controllers and the
# scheduler are stopped first so nothing comes back.
drain_pods() {
  proc_running kubelet && proc_running kube-apiserver || return 0
  kubectl_admin delete pods --all --all-namespaces --grace-period=1 --wait=false >/dev/null 2>&1 || return 0
  wait_for 60 "pods to terminate" bash -c \
    "[[ -z \"\$('$BIN/kubectl' --kubeconfig '$KUBECONFIG_ADMIN' get pods -A -o name 2>/dev/null)\" ]]" || true
}

# task_gone deletes task $1 (the CRI plugin may have done so already) and
# reports whether it is gone.
task_gone() {
  local ids
  ctr_k8s tasks delete -f "$1" >/dev/null 2>&1 || true
  ids="$(ctr_k8s tasks ls -q 2>/dev/null)" || return 1
  ! grep -qx "$1" <<<"$ids"
}

# stop_containers kills and deletes every task and container left in our
# containerd (k8s.io namespace), so their shims exit.
stop_containers() {
  local id
  proc_running containerd || return 0
  for id in $(ctr_k8s tasks ls -q 2>/dev/null || true); do
    ctr_k8s tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true
    wait_for 20 "task $id to go" task_gone "$id" || true
  done
  for id in $(ctr_k8s containers ls -q 2>/dev/null || true); do
    ctr_k8s containers delete "$id" >/dev/null 2>&1 || true
  done
}

# our_mounts lists mount points under our dirs and netns mounts we made,
# deepest first.
our_mounts() {
  local known=""
  [[ -f "$BASELINE/dirs" ]] && grep -qx /run/netns "$BASELINE/dirs" && known=1
  awk '{ print $5 }' /proc/self/mountinfo | while read -r m; do
    case "$m" in
      "$STATE" | "$STATE"/* | "$RUN" | "$RUN"/*) echo "$m" ;;
      /run/netns/cni-* | /var/run/netns/cni-*) [[ -z "$known" ]] && echo "$m" ;;
    esac
  done | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-
}

unmount_all() {
  local m
  for m in $(our_mounts); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "cannot unmount $m"
  done
}

# clean_iptables removes KUBE-* and CNI-* chains and every rule jumping to them.
clean_iptables() {
  local ipt t rule chain rules chains
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for t in "${IPT_TABLES[@]}"; do
      rules="$("$ipt" -w 5 -t "$t" -S 2>/dev/null | grep -E '^-A .* -j (KUBE-|CNI-)' | grep -vE '^-A (KUBE-|CNI-)' || true)"
      while read -r rule; do
        # Rules come back in iptables -S syntax (quoted comments): eval re-splits them.
        if [[ -n "$rule" ]]; then eval "$ipt -w 5 -t $t ${rule/-A/-D}" 2>/dev/null || true; fi
      done <<<"$rules"
      chains="$("$ipt" -w 5 -t "$t" -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/ { print $2 }' || true)"
      for chain in $chains; do "$ipt" -w 5 -t "$t" -F "$chain" 2>/dev/null || true; done
      for chain in $chains; do "$ipt" -w 5 -t "$t" -X "$chain" 2>/dev/null || true; done
    done
  done
}

clean_links() {
  local l
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    for l in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{ print $2 }' | sed 's/@.*//'); do
      ip link delete "$l" 2>/dev/null || true
    done
    ip link delete "$BRIDGE" 2>/dev/null || true
  fi
}

clean_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [[ -d "$d" ]] || continue
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

restore_host() {
  local s v d m
  if [[ -f "$BASELINE/sysctls" ]]; then
    while read -r s v; do write_sysctl "$s" "$v"; done <"$BASELINE/sysctls"
  fi
  if [[ -f "$BASELINE/modules" ]]; then
    while read -r m; do modprobe -r "$m" 2>/dev/null || log "cannot unload kernel module $m"; done <"$BASELINE/modules"
  fi
  for d in "${HOST_DIRS[@]}"; do
    [[ -e "$d" ]] || continue
    if [[ -f "$BASELINE/dirs" ]] && grep -qx "$d" "$BASELINE/dirs"; then
      # It was there before: remove only what points into our state.
      find "$d" -maxdepth 1 -lname "$STATE/*" -delete 2>/dev/null || true
    else
      rm -rf "$d"
    fi
  done
}

cmd_down() {
  require_root
  if [[ ! -e "$STATE" && ! -e "$RUN" ]]; then
    log "not running"
    return 0
  fi
  local t0=$SECONDS
  mkdir -p "$STATE/pids"
  # Controllers and scheduler first so drained pods do not come back.
  stop_procs provisioner kube-scheduler kube-controller-manager
  drain_pods
  log "pods drained at $((SECONDS - t0))s"
  stop_procs kubelet kube-proxy
  stop_containers
  # shellcheck disable=SC2046 # one PID per word
  stop_pids $(shim_pids)
  # The API server removes its endpoint from etcd while shutting down.
  stop_procs kube-apiserver
  stop_procs etcd containerd
  # shellcheck disable=SC2046
  stop_pids $(shim_pids)
  # Anything of COMPONENTS not stopped above (none today).
  stop_procs "${COMPONENTS[@]}"
  if [[ -x "$BIN/kube-proxy" ]]; then "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  unmount_all
  clean_links
  clean_iptables
  clean_cgroups
  restore_host
  unmount_all
  rm -rf "$STATE" "$RUN"
  log "down in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------- other commands

cmd_load_image() {
  local tarball="${1:-}"
  [[ -f "$tarball" ]] || die "usage: $0 load-image TARBALL"
  proc_running containerd || die "cluster is not running (hack/local-cluster.sh up)"
  ctr_k8s images import --platform linux/amd64 "$tarball" >&2
}

cmd_status() {
  local c pid
  for c in "${COMPONENTS[@]}"; do
    if pid="$(proc_pid "$c")"; then echo "$c running (pid $pid)"; else echo "$c stopped"; fi
  done
  if cluster_healthy; then
    kubectl_admin get nodes -o wide
    kubectl_admin get pods -A -o wide
  fi
}

# cmd_verify_clean lists anything of ours left on the machine; exit 1 if any.
cmd_verify_clean() {
  local left=() p cmd m l d s v now
  # Ours: every process we start names a file under $STATE or $RUN (shims
  # name our socket); container processes live in kubepods cgroups. (Other
  # programs may run our binaries, e.g. envtest: the binary alone says nothing.)
  for p in /proc/[0-9]*; do
    cmd="$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)" || continue
    if [[ "$cmd" == *"$STATE"* || "$cmd" == *"$RUN"* ]] || grep -q '/kubepods' "$p/cgroup" 2>/dev/null; then
      left+=("process ${p#/proc/}: $cmd")
    fi
  done
  while read -r m; do left+=("mount $m"); done < <(our_mounts)
  if [[ -f "$BASELINE/links" ]]; then
    while read -r l; do left+=("link $l"); done < <(comm -13 "$BASELINE/links" <(link_names))
  fi
  if [[ ! -f "$BASELINE/links" ]] && ip link show "$BRIDGE" >/dev/null 2>&1; then left+=("link $BRIDGE"); fi
  if [[ -f "$BASELINE/iptables" ]]; then
    while read -r l; do left+=("rule $l"); done < <(comm -13 <(sort "$BASELINE/iptables") <(ipt_rules | sort))
  fi
  while read -r l; do [[ -n "$l" ]] && left+=("chain $l"); done < <(ipt_rules | grep -E -- ' -N (KUBE-|CNI-)' || true)
  if [[ -f "$BASELINE/sysctls" ]]; then
    while read -r s v; do
      now="$(read_sysctl "$s")"
      [[ "$now" == "$v" ]] || left+=("sysctl $s = $now (was $v)")
    done <"$BASELINE/sysctls"
  fi
  for d in "$STATE" "$RUN"; do [[ -e "$d" ]] && left+=("dir $d"); done
  for d in "${HOST_DIRS[@]}"; do
    if [[ -e "$d" ]] && ! { [[ -f "$BASELINE/dirs" ]] && grep -qx "$d" "$BASELINE/dirs"; }; then
      left+=("dir $d")
    fi
  done
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do [[ -d "$d" ]] && left+=("cgroup $d"); done
  if [[ -f "$BASELINE/modules" ]]; then
    while read -r m; do kernel_has "$m" && left+=("kernel module $m"); done <"$BASELINE/modules"
  fi
  if ((${#left[@]})); then
    printf 'left behind: %s\n' "${left[@]}"
    return 1
  fi
  echo "clean: no processes, mounts, links, iptables rules, sysctls, dirs, cgroups or modules left"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    load-image) cmd_load_image "$@" ;;
    kubeconfig) echo "$KUBECONFIG_ADMIN" ;;
    status) cmd_status ;;
    verify-clean) cmd_verify_clean ;;
    *)
      sed -n '2,9p' "$0" >&2
      exit 2
      ;;
  esac
}

main "$@"
