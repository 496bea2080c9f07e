#!/usr/bin/env bash
# install-command.sh COMMAND [PACKAGE]: make sure COMMAND is on this machine, installing the Debian
# PACKAGE (default: COMMAND) with apt-get when it is not. Used for the optional tools tests need:
# espeak-ng (agikit's default TTS, src/media/tts.ts), lame (Relay record's mp3 format) and
# ghostscript (Relay faxSend's PDF documents: install-command.sh gs ghostscript).
# Idempotent and quiet: prints nothing and exits 0 when COMMAND is there (or was just installed);
# otherwise one line starting with "install-command:" on stderr and a non-zero exit, and the tests
# that need it skip with that reason.
set -uo pipefail

command=${1:?usage: install-command.sh COMMAND [PACKAGE]}
package=${2:-$command}

command -v "$command" >/dev/null 2>&1 && exit 0

fail() {
  echo "install-command: $*" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "$command is not installed and there is no apt-get to install it"
[ "$(id -u)" = 0 ] || fail "$command is not installed and installing it needs root (apt-get install $package)"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "$package" >"$log" 2>&1; then
  # The package lists may be missing or stale on a fresh machine.
  apt-get update -qq >>"$log" 2>&1 || true
  apt-get install -y -qq --no-install-recommends "$package" >>"$log" 2>&1 || fail "apt-get install $package failed: $(tail -n 1 "$log")"
fi
command -v "$command" >/dev/null 2>&1 || fail "$command still not found after installing $package"
