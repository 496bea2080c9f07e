#!/usr/bin/env bash
# asterisk-image.sh: make sure the local Asterisk image used by agikit's live
# tests exists, building it without any container registry, and print its
# name as the last line on stdout.
#
#   image=$(bash scripts/asterisk-image.sh | tail -n 1)
#
# How the image is made (no `docker pull` anywhere):
#   1. debootstrap a minimal Debian sid root file system that holds Asterisk
#      (22.x at the time of writing), the English GSM core sounds, the GSM
#      music-on-hold files and Node.js (for stdio AGI scripts run inside the
#      container);
#   2. trim it (apt caches, docs, man pages) and empty /etc/asterisk: the
#      configuration is supplied at run time (see asterisk-conf/; the Debian
#      samples stay available under /usr/share/asterisk/conf/samples);
#   3. cache it as a tarball outside the repository, in
#      ${AGIKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/agikit}/, so that a
#      rebuild after `docker rmi` is a plain `docker import` (a few seconds);
#   4. `docker import` it with a default CMD that runs Asterisk in the
#      foreground.
#
# asterisk-conf/Dockerfile describes the same image for engines that can pull
# debian:sid; build it with `docker build -t NAME asterisk-conf` and pass NAME
# in AGIKIT_ASTERISK_IMAGE.
#
# The tag carries a short hash of the recipe (suite, package list, build and
# import settings), so changing the package list yields a new image and a new
# cache file instead of silently reusing the old one; changing only the
# import settings re-imports the cached tarball.
#
# Environment:
#   AGIKIT_ASTERISK_IMAGE  use this image name instead of the computed one
#                          (built with this recipe if it does not exist yet)
#   AGIKIT_CACHE_DIR       where the root file system tarball is cached
#   AGIKIT_DEBIAN_MIRROR   Debian mirror for debootstrap (default:
#                          debootstrap's own default mirror)
#
# Needs a Docker engine that answers (see scripts/ensure-docker.sh), and root
# plus apt-get for the first build (debootstrap). Quiet on success: only the
# image name is printed. On failure: one line starting with "asterisk-image:"
# on stderr (build logs are kept in the cache directory) and a non-zero exit.

set -euo pipefail

# Bump rootfs_version when the root file system build steps change, and
# image_version when only the `docker import` settings change.
rootfs_version=1
image_version=2
suite=sid
# Everything in the image. Add a package here only if a test needs it.
packages="asterisk asterisk-core-sounds-en-gsm asterisk-moh-opsound-gsm nodejs"
mirror=${AGIKIT_DEBIAN_MIRROR:-}

fail() {
  echo "asterisk-image: $*" >&2
  exit 1
}

command -v docker >/dev/null 2>&1 || fail "docker is not installed (run scripts/ensure-docker.sh)"
docker info >/dev/null 2>&1 || fail "docker does not answer (run scripts/ensure-docker.sh)"

import_changes=(
  'CMD ["/usr/sbin/asterisk", "-f", "-n", "-vvv"]'
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  'ENV LANG=C.UTF-8'
)
rootfs_recipe="rootfs-v$rootfs_version $suite variant=minbase packages=$packages"
rootfs_hash=$(printf '%s' "$rootfs_recipe" | sha256sum | cut -c1-12)
recipe="$rootfs_recipe image-v$image_version ${import_changes[*]}"
hash=$(printf '%s' "$recipe" | sha256sum | cut -c1-12)
image=${AGIKIT_ASTERISK_IMAGE:-agikit/asterisk:$suite-$hash}

image_exists() {
  docker image inspect "$image" >/dev/null 2>&1
}

if image_exists; then
  echo "$image"
  exit 0
fi

cache_dir=${AGIKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/agikit}
mkdir -p "$cache_dir" || fail "cannot create cache directory $cache_dir"
tarball="$cache_dir/asterisk-rootfs-$rootfs_hash.tar"
build_log="$cache_dir/asterisk-rootfs-$rootfs_hash.log"

# Serialise concurrent callers (e.g. several test files starting at once).
exec 9>"$cache_dir/asterisk-image.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9 || fail "cannot lock $cache_dir/asterisk-image.lock"
fi
if image_exists; then
  echo "$image"
  exit 0
fi

build_rootfs() {
  [ "$(id -u)" = 0 ] || fail "building the root file system needs root (debootstrap); or build asterisk-conf/Dockerfile and set AGIKIT_ASTERISK_IMAGE"
  if ! command -v debootstrap >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || fail "debootstrap is missing and apt-get is not available to install it"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap; } >>"$build_log" 2>&1 \
      || fail "apt-get install debootstrap failed (log: $build_log)"
  fi

  local root
  root=$(mktemp -d "$cache_dir/rootfs-$rootfs_hash.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$root'" EXIT

  local mirror_arg=()
  [ -z "$mirror" ] || mirror_arg=("$mirror")
  debootstrap --variant=minbase --include="${packages// /,}" "$suite" "$root" "${mirror_arg[@]}" >>"$build_log" 2>&1 \
    || fail "debootstrap failed (log: $build_log)"
  [ -x "$root/usr/sbin/asterisk" ] || fail "debootstrap finished but $root/usr/sbin/asterisk is missing (log: $build_log)"

  # Trim what a test container never needs.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
  # Configuration comes from asterisk-conf/ (or the user's own directory) at
  # run time; the Debian samples remain in /usr/share/asterisk/conf/samples.
  find "$root/etc/asterisk" -mindepth 1 -delete
  # No build-host leftovers in the image.
  : >"$root/etc/machine-id"
  rm -f "$root/etc/hostname"

  tar -C "$root" -cf "$tarball.tmp" . || fail "cannot write $tarball.tmp"
  mv -f "$tarball.tmp" "$tarball"
  rm -rf "$root"
  trap - EXIT
}

if [ ! -s "$tarball" ]; then
  : >"$build_log"
  build_rootfs
fi

change_args=()
for change in "${import_changes[@]}"; do
  change_args+=(--change "$change")
done
docker import "${change_args[@]}" \
  --change "LABEL org.agikit.recipe-hash=$hash org.agikit.packages=\"$packages\"" \
  "$tarball" "$image" >>"$build_log" 2>&1 \
  || fail "docker import of $tarball failed (log: $build_log)"

echo "$image"
