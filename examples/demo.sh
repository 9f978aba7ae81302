#!/usr/bin/env bash
# nfhot end to end on the example pipeline, with the real Nextflow: build its image offline, run
# the pipeline and see SEQSTATS_GC fail, patch the package inside the image from a branch (nfhot
# finds the image from the pipeline and writes nfhot.config), `nextflow run -resume` reruns exactly
# the patched tasks, rerun the failed task alone, see what the patch changed and the lines that make
# it permanent, roll back; then watch the working copy: edit, save, and the pipeline reruns.
# Needs a running Docker daemon, the built project and the tests' Nextflow (scripts/setup.sh: all three).
set -euo pipefail
cd "$(dirname "$0")/.."

# The image the pipeline's modules name (biocontainers/seqstats:...), as Nextflow names it with
# the pipeline's docker.registry = 'quay.io'.
IMAGE=quay.io/biocontainers/seqstats:1.0.0--nfhot0
nfhot() { node bin/nfhot.js "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
NEXTFLOW=$(bash scripts/nextflow.sh 24.10.6)
work=$(mktemp -d /tmp/nfhot-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
export NXF_HOME="$work/nxf-home"
trace="$work/trace.tsv"
# The run, in the example's directory, with its trace. A failed task lets the others finish
# (errorStrategy 'ignore', as the tests run it): the default would stop the run at once, and what
# the other tasks had done by then, cached or not, would depend on the machine's timing.
run() {
  printf '$ nextflow run . -profile docker %s\n' "$*" >&2
  (cd examples && "$NEXTFLOW" -q run . -profile docker -with-trace "$trace" -c "$work/trace.config" "$@") || true
  cut -f1,2 "$trace" | column -t -s "$(printf '\t')" >&2
}
printf 'trace {\n    fields = "name,status,workdir"\n    overwrite = true\n}\nprocess.errorStrategy = "ignore"\n' >"$work/trace.config"
status_of() { awk -F'\t' -v p="NFHOT_EXAMPLE:SEQSTATS:$1" '$1 == p || index($1, p " (") == 1 { print $2 }' "$trace"; }
expect() { # PROCESS STATUS: as the last run's trace says
  [ "$(status_of "$1")" = "$2" ] || { echo "demo: expected $1 $2, the trace says $(status_of "$1")" >&2; exit 1; }
}
gc_of_acgtacgt() { head -1 examples/results/seqstats_gc/sequences.gc.tsv; }

step "1. Build the example image offline (Debian base from debootstrap, then docker build)"
scripts/base-image.sh
docker build -q -t "$IMAGE" examples >/dev/null
docker tag nfhot/debian-python:bookworm quay.io/biocontainers/coreutils:9.1--nfhot0 # COUNT_LINES' image: another tool
nfhot rollback "$IMAGE" --pipeline examples >/dev/null 2>&1 || true # a previous run of this demo may have left it patched
rm -rf examples/work examples/results examples/.nextflow

step "2. The pipeline as nfhot reads it: each process, where it runs, and the image it runs under Docker"
nfhot config --pipeline examples

step "3. The bug: SEQSTATS_GC fails on lowercase bases (GC of ACGTacgt should be 0.50)"
run
expect SEQSTATS_GC FAILED
failed=$(awk -F'\t' '$2 == "FAILED" { print $3 }' "$trace" | head -1)
grep -h ValueError "$failed/.command.err" >&2

step "4. The fix lives on a branch of the package's repository"
repo="$work/seqstats"
cp -r examples/seqstats "$repo"
git_() { git -C "$repo" -c user.name=demo -c user.email=demo@example.org "$@"; }
git_ init -q -b main && git_ add -A && git_ commit -qm "seqstats 1.0.0"
git_ checkout -qb fix-lowercase
git_ apply "$PWD/examples/seqstats-fix-lowercase.patch"
git_ commit -qam "count lowercase bases"
printf 'branch fix-lowercase at %s\n' "$(git_ rev-parse --short HEAD)" >&2

step "5. nfhot patch, no --image: it finds the pipeline's images that have seqstats, patches them, writes nfhot.config"
time nfhot patch "git+file://$repo@fix-lowercase" --pipeline examples
sed -n '/^process/,/^}/p' examples/nfhot.config >&2

step "6. nextflow run -resume: the three seqstats tasks rerun with the fix, COUNT_LINES stays cached"
run -resume
expect SEQSTATS_GC COMPLETED
expect COUNT_LINES CACHED
gc_of_acgtacgt >&2
[ "$(gc_of_acgtacgt)" = "$(printf 'ACGTacgt\tGC=0.50')" ] || { echo "demo: expected GC=0.50" >&2; exit 1; }

step "7. nfhot rerun: the task that failed in step 3, alone, with the patch (in a copy of its work directory)"
nfhot rerun "$failed"
printf '$ echo "seqstats --version" | nfhot shell --as-task   (the patched image, as a task sees it)\n' >&2
echo "seqstats --version" | (cd examples && node ../bin/nfhot.js shell --as-task)
nfhot diff "$IMAGE"
nfhot export "$IMAGE"

step "8. nfhot rollback: the exact original image again, nfhot.config overrides nothing, and the task fails again"
nfhot rollback "$IMAGE" --pipeline examples
run -resume
expect SEQSTATS_GC FAILED

step "9. nfhot watch: the working copy is patched on every save, and the pipeline reruns after each patch"
refs="$work/refs"
node bin/nfhot.js watch "$repo" --pipeline examples --rollback-on-exit -- \
  bash -c 'cd examples && "$0" -q run . -profile docker -resume -with-trace "$1" -c "$2" >&2' "$NEXTFLOW" "$trace" "$work/trace.config" >"$refs" &
watcher=$!
patches() { # waits until the watcher has printed $1 references, and the run after it has ended
  for _ in $(seq 1800); do [ "$(wc -l <"$refs")" -ge "$1" ] && break; kill -0 "$watcher" 2>/dev/null || break; sleep 0.1; done
  [ "$(wc -l <"$refs")" -ge "$1" ] || { echo "demo: nfhot watch made no patch $1" >&2; exit 1; }
  for _ in $(seq 1800); do [ -s "$trace" ] && [ "$trace" -nt "$refs" ] && ! pgrep -f "nextflow.cli.Launcher.*$trace" >/dev/null && return; sleep 0.2; done
}
patches 1
gc_of_acgtacgt >&2
printf '$ edit %s: GC content as a fraction of the bases that are not N\n' "$repo/src/seqstats/__init__.py" >&2
sed -i 's|    return gc / len(sequence)|    return gc / max(1, len(sequence) - sequence.upper().count("N"))|' "$repo/src/seqstats/__init__.py"
patches 2
expect SEQSTATS_GC COMPLETED # the edit reran the seqstats tasks
got=$(docker run --rm "$(sed -n 2p "$refs")" seqstats NNACGT)
printf '%s\n' "$got" >&2
[ "$got" = "$(printf 'NNACGT\tGC=0.50')" ] || { echo "demo: the edit is not in the image" >&2; exit 1; }
kill -TERM "$watcher" # as Ctrl-C
wait "$watcher" || true

step "Done: a failed task, patched from a branch, -resume reran exactly the patched tasks, the task rerun alone, shell, diff, export, rolled back; watched, edited, rerun, rolled back."
