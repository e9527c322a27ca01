# shellcheck shell=bash
# Shared helpers for the hack/ scripts. Source it; it defines functions only.
#   source "$(dirname "$0")/lib/common.sh"

# log prints a progress line on stderr (stdout is kept for results).
log() { echo "${SHOAL_LOG_PREFIX:-shoal}: $*" >&2; }

die() {
  log "error: $*"
  exit 1
}

# apt_get runs apt-get non-interactively, waiting for other apt/dpkg runs
# (other scripts may install packages at the same time).
apt_get() {
  local try
  for try in $(seq 1 60); do
    if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q "$@" >&2; then
      return 0
    fi
    log "apt-get $* failed (try $try), retrying in 5s"
    sleep 5
  done
  die "apt-get $* kept failing"
}

# ensure_packages installs the Debian packages whose marker command is
# missing. Arguments are pairs: command package (e.g. etcd etcd-server).
# `apt-get update` runs first, and only when something must be installed.
ensure_packages() {
  local missing=() cmd pkg
  while (($#)); do
    cmd="$1" pkg="$2"
    shift 2
    if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "$cmd" ]]; then
      missing+=("$pkg")
    fi
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]} with apt-get"
  apt_get update
  apt_get install --no-install-recommends "${missing[@]}"
}

# wait_for polls "$@" every 0.2s until it succeeds or $timeout seconds pass.
wait_for() {
  local timeout="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# free_port prints a TCP port of 127.0.0.1 that is free at this moment.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# stop_pids stops the processes a script started (their PIDs are the
# arguments) and waits for them: only our own processes, by PID.
stop_pids() {
  local pid
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}
