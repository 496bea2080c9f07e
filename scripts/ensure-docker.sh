#!/usr/bin/env bash
# ensure-docker.sh: make sure a Docker engine answers `docker info`.
#
# - If `docker info` already answers (any engine, any DOCKER_HOST), exit 0.
# - Otherwise, as root on Debian: install docker.io if dockerd is missing,
#   start `dockerd --bridge=none --iptables=false` in the background (it
#   outlives this script; log in $AGIKIT_DOCKERD_LOG, default
#   /tmp/agikit-dockerd.log) and wait up to $AGIKIT_DOCKER_WAIT seconds
#   (default 60) for it to answer.
#
# The engine is started without a bridge network and without iptables rules:
# agikit only ever runs containers with host networking (everything stays on
# 127.0.0.1), so it needs neither.
#
# Idempotent; prints nothing on success. On failure prints one line starting
# with "ensure-docker:" on stderr and exits non-zero.

set -u

log_file=${AGIKIT_DOCKERD_LOG:-/tmp/agikit-dockerd.log}
wait_seconds=${AGIKIT_DOCKER_WAIT:-60}

fail() {
  echo "ensure-docker: $*" >&2
  exit 1
}

docker_answers() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

# Is a dockerd we (or someone) started still alive, just not answering yet?
dockerd_running() {
  local pid
  [ -r /var/run/docker.pid ] || return 1
  pid=$(cat /var/run/docker.pid 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

if docker_answers; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  fail "docker does not answer and this is not root, so dockerd cannot be installed or started here; start Docker and retry"
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || fail "docker is not installed and apt-get is not available to install it"
  export DEBIAN_FRONTEND=noninteractive
  apt_log=$(mktemp -t agikit-apt.XXXXXX)
  if ! { apt-get update -q && apt-get install -y -q --no-install-recommends docker.io; } >"$apt_log" 2>&1; then
    fail "apt-get install docker.io failed: $(tail -n 1 "$apt_log")"
  fi
  rm -f "$apt_log"
  command -v dockerd >/dev/null 2>&1 || fail "docker.io was installed but dockerd is still not on PATH"
fi

if ! dockerd_running; then
  # setsid + nohup: the daemon gets its own session and survives this script
  # (and the test process that called it).
  setsid nohup dockerd --bridge=none --iptables=false >>"$log_file" 2>&1 </dev/null &
fi

deadline=$(( $(date +%s) + wait_seconds ))
while :; do
  if docker_answers; then
    exit 0
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    fail "dockerd did not answer within ${wait_seconds}s (log: $log_file: $(tail -n 1 "$log_file" 2>/dev/null))"
  fi
  sleep 1
done
