#!/usr/bin/env bash
# nfhot end to end on the built-in example: build the example pipeline image offline, patch the
# package inside it from a branch, see the changed behaviour through the same tag, roll back.
# Needs a running Docker daemon and the built project (scripts/setup.sh does both).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-nfhot-example/seqstats:dev}
nfhot() { node bin/nfhot.js "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
expect_gc() {
  local got
  got=$(docker run --rm "$IMAGE" seqstats ACGTacgt)
  printf '$ docker run --rm %s seqstats ACGTacgt\n%s\n' "$IMAGE" "$got" >&2
  [ "$got" = "$(printf 'ACGTacgt\tGC=%s' "$1")" ] || { echo "demo: expected GC=$1" >&2; exit 1; }
}

step "1. Build the example image offline (Debian base from debootstrap, then docker build)"
scripts/base-image.sh
docker build -q -t "$IMAGE" examples >/dev/null
nfhot rollback "$IMAGE" >/dev/null # a previous run of this demo may have left it patched

step "2. The bug: lowercase bases are not counted (GC of ACGTacgt should be 0.50)"
expect_gc 0.25

step "3. The fix lives on a branch of the package's repository"
repo=$(mktemp -d /tmp/nfhot-demo-seqstats.XXXXXX)
trap 'rm -rf "$repo"' EXIT
cp -r examples/seqstats/. "$repo"
git_() { git -C "$repo" -c user.name=demo -c user.email=demo@example.org "$@"; }
git_ init -q -b main && git_ add -A && git_ commit -qm "seqstats 1.0.0"
git_ checkout -qb fix-lowercase
git_ apply "$PWD/examples/seqstats-fix-lowercase.patch"
git_ commit -qam "count lowercase bases"
printf 'branch fix-lowercase at %s\n' "$(git_ rev-parse --short HEAD)" >&2

step "4. nfhot patch: install the branch into the image, same tag, seconds not an hour"
time nfhot patch "git+file://$repo@fix-lowercase" --image "$IMAGE"
expect_gc 0.50
nfhot status

step "5. nfhot rollback: the exact original image again"
nfhot rollback "$IMAGE"
expect_gc 0.25

step "Done: patched from a branch, saw the fix through the same tag, rolled back."
