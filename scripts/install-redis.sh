#!/usr/bin/env bash
# install-redis.sh: make sure redis-server (Debian's package; the broker of the Redis task transport,
# src/relay/transports/redis.ts) is on this machine, for the tests of that transport. They start
# their own server on 127.0.0.1 at a port chosen per run, with no persistence; nothing here starts one.
# See install-command.sh for what it prints and exits with.
exec bash "$(dirname "$0")/install-command.sh" redis-server
