#!/usr/bin/env bash
# The main job, from a fresh clone: install, build, serve the example app (examples/hello.ts) over
# FastAGI, start a local Asterisk 22 in Docker (scripts/ensure-docker.sh and scripts/asterisk-image.sh
# install and build what is missing), place a demo call into the app and print what happened.
# Pass --keep-serving to leave the server running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run build
node dist/scripts/demo.js "$@"
