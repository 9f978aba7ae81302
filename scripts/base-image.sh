#!/usr/bin/env bash
# Builds a Debian bookworm image with Python, pip, setuptools, wheel and venv, and procps (a
# pipeline image needs `ps`: Nextflow's task wrapper collects metrics with it), offline from
# Debian's packages (debootstrap, then docker import), with more of Debian's packages when asked
# (the tests' build image: git and compilers). Reused when it already exists with these packages.
# Usage: scripts/base-image.sh [IMAGE [PACKAGE,...]]   (default nfhot/debian-python:bookworm)
set -euo pipefail
image=${1:-nfhot/debian-python:bookworm}
packages=python3-pip,python3-setuptools,python3-wheel,python3-venv,procps${2:+,$2}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# The image names what it was made of: one made of other packages (an older nfhot's) is made again.
made() { [ "$(docker image inspect --format '{{index .Config.Labels "nfhot-base-packages"}}' "$image" 2>/dev/null)" = "$packages" ]; }
if made; then exit 0; fi
exec 9>"/tmp/nfhot-base-image.lock"
flock 9 # tests and examples may ask at the same time
if made; then exit 0; fi

root=$(mktemp -d /tmp/nfhot-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
printf 'base-image: debootstrap bookworm into %s (about a minute)\n' "$root" >&2
debootstrap --variant=minbase --include="$packages" \
  bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import --change "LABEL nfhot-base-packages=$packages" - "$image" >/dev/null
printf 'base-image: %s ready\n' "$image" >&2
