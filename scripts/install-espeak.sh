#!/usr/bin/env bash
# install-espeak.sh: make sure espeak-ng (the text-to-speech engine of agikit's default TTS provider,
# src/media/tts.ts) is installed on this machine. Idempotent and quiet: prints nothing and exits 0
# when espeak-ng is there (or was just installed); otherwise one line starting with
# "install-espeak:" on stderr and a non-zero exit, and the TTS tests skip with that reason.
set -uo pipefail

command -v espeak-ng >/dev/null 2>&1 && exit 0

fail() {
  echo "install-espeak: $*" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "espeak-ng is not installed and there is no apt-get to install it"
[ "$(id -u)" = 0 ] || fail "espeak-ng is not installed and installing it needs root (apt-get install espeak-ng)"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends espeak-ng >"$log" 2>&1; then
  # The package lists may be missing or stale on a fresh machine.
  apt-get update -qq >>"$log" 2>&1 || true
  apt-get install -y -qq --no-install-recommends espeak-ng >>"$log" 2>&1 || fail "apt-get install espeak-ng failed: $(tail -n 1 "$log")"
fi
command -v espeak-ng >/dev/null 2>&1 || fail "espeak-ng still not found after installing it"
