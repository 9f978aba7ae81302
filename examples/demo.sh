#!/usr/bin/env bash
# nfhot end to end on the example pipeline: build its image offline, run a task the way Nextflow's
# Docker executor does and see it fail, patch the package inside the image from a branch (nfhot
# finds the image from the pipeline and writes nfhot.config), rerun the failed task with the patch,
# see what the patch changed and the lines that make it permanent, roll back; then watch the
# working copy: edit, save, and the task reruns with the edit.
# Needs a running Docker daemon and the built project (scripts/setup.sh does both).
set -euo pipefail
cd "$(dirname "$0")/.."

# The image the pipeline's modules name (biocontainers/seqstats:...), as Nextflow names it with
# the pipeline's docker.registry = 'quay.io'.
IMAGE=quay.io/biocontainers/seqstats:1.0.0--nfhot0
nfhot() { node bin/nfhot.js "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
expect_gc() { # the GC line of ACGTacgt in what the replayed task wrote
  local got
  got=$(bash examples/replay-task.sh NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC | head -1)
  printf '%s\n' "$got" >&2
  [ "$got" = "$(printf 'ACGTacgt\tGC=%s' "$1")" ] || { echo "demo: expected GC=$1" >&2; exit 1; }
}
expect_failure() { # the replayed task fails on lowercase bases
  if bash examples/replay-task.sh NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC >/dev/null 2>"$err"; then echo "demo: the task passed" >&2; exit 1; fi
  grep -E 'ValueError|failed with' "$err" >&2
}
err=$(mktemp /tmp/nfhot-demo-err.XXXXXX)

step "1. Build the example image offline (Debian base from debootstrap, then docker build)"
scripts/base-image.sh
docker build -q -t "$IMAGE" examples >/dev/null
nfhot rollback "$IMAGE" --pipeline examples >/dev/null # a previous run of this demo may have left it patched

step "2. The pipeline as nfhot reads it: each process and the image it runs under Docker"
nfhot config --pipeline examples

step "3. The bug: SEQSTATS_GC fails on lowercase bases (GC of ACGTacgt should be 0.50)"
expect_failure
task=$(ls -td examples/work/*/* | head -1)

step "4. The fix lives on a branch of the package's repository"
repo=$(mktemp -d /tmp/nfhot-demo-seqstats.XXXXXX)
trap 'rm -rf "$repo" "$err"' EXIT
cp -r examples/seqstats/. "$repo"
git_() { git -C "$repo" -c user.name=demo -c user.email=demo@example.org "$@"; }
git_ init -q -b main && git_ add -A && git_ commit -qm "seqstats 1.0.0"
git_ checkout -qb fix-lowercase
git_ apply "$PWD/examples/seqstats-fix-lowercase.patch"
git_ commit -qam "count lowercase bases"
printf 'branch fix-lowercase at %s\n' "$(git_ rev-parse --short HEAD)" >&2

step "5. nfhot patch, no --image: it finds the pipeline's images that have seqstats, patches them, writes nfhot.config"
time nfhot patch "git+file://$repo@fix-lowercase" --pipeline examples
sed -n '/^process/,$p' examples/nfhot.config >&2
expect_gc 0.50
printf '$ docker run --rm %s seqstats ACGTacgt   (the same tag runs the fix too)\n' "$IMAGE" >&2
docker run --rm "$IMAGE" seqstats ACGTacgt >&2
nfhot status

step "5b. nfhot rerun: the task that failed in step 3, again, with the patch (in a copy of its work directory)"
nfhot rerun "$task"
printf '$ echo "seqstats --version" | nfhot shell   (the patched image, as a task sees it)\n' >&2
echo "seqstats --version" | (cd examples && node ../bin/nfhot.js shell --as-task)
nfhot diff "$IMAGE"
nfhot export "$IMAGE"

step "6. nfhot rollback: the exact original image again, and nfhot.config overrides nothing"
nfhot rollback "$IMAGE" --pipeline examples
expect_failure
tail -1 examples/nfhot.config >&2

step "7. nfhot watch: the working copy is patched on every save, and the task reruns after each patch"
refs=$(mktemp /tmp/nfhot-demo-refs.XXXXXX)
trap 'rm -rf "$repo" "$refs" "$err"' EXIT
node bin/nfhot.js watch "$repo" --pipeline examples --rollback-on-exit -- bash examples/replay-task.sh >"$refs" &
watcher=$!
patches() { # waits until the watcher has printed $1 references
  for _ in $(seq 1200); do [ "$(wc -l <"$refs")" -ge "$1" ] && return; kill -0 "$watcher" 2>/dev/null || break; sleep 0.1; done
  echo "demo: nfhot watch made no patch $1" >&2; exit 1
}
patches 1
expect_gc 0.50
printf '$ edit %s: GC content as a fraction of the bases that are not N\n' "$repo/src/seqstats/__init__.py" >&2
sed -i 's|    return gc / len(sequence)|    return gc / max(1, len(sequence) - sequence.upper().count("N"))|' "$repo/src/seqstats/__init__.py"
patches 2
expect_gc 0.50 # the same for ACGTacgt; the task ran the edited module
got=$(docker run --rm "$(sed -n 2p "$refs")" seqstats NNACGT)
printf '%s\n' "$got" >&2
[ "$got" = "$(printf 'NNACGT\tGC=0.50')" ] || { echo "demo: the edit is not in the image" >&2; exit 1; }
kill -TERM "$watcher" # as Ctrl-C
wait "$watcher" || true
expect_failure # --rollback-on-exit: the original again

step "Done: a failed task, patched from a branch, the task rerun with the fix, shell, diff, export, rolled back; watched, edited, rerun, rolled back."
