#!/usr/bin/env bash
# Wall time of `nfhot patch` from a git branch next to a plain `docker run IMAGE pip install` of the
# same tree on the same image, alternated, a new commit each round (so nfhot never hits its cache).
# Usage: bench/patch-vs-pip.sh [ROUNDS]   (needs scripts/setup.sh done; uses the example image)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-8}
IMAGE=nfhot-bench/seqstats:dev
scripts/base-image.sh
docker build -q -t $IMAGE examples >/dev/null 2>&1
repo=$(mktemp -d /tmp/nfhot-bench-repo.XXXXXX)
export NFHOT_CACHE=$(mktemp -d /tmp/nfhot-bench-cache.XXXXXX)
trap 'node bin/nfhot.js rollback $IMAGE >/dev/null 2>&1; docker rmi $IMAGE >/dev/null 2>&1; rm -rf "$repo" "$NFHOT_CACHE"' EXIT
cp -r examples/seqstats/. "$repo"
g() { git -C "$repo" -c user.name=bench -c user.email=bench@example.org "$@"; }
g init -q -b main && g add -A && g commit -qm init && g checkout -qb fix
now() { date +%s.%N; }
results=$(mktemp)
printf 'round\tnfhot_patch_s\tdocker_run_pip_s\n'
for i in $(seq 0 "$rounds"); do
  echo "# round $i" > "$repo/src/seqstats/round.py"; g add -A; g commit -qm "round $i"
  export_dir=$(mktemp -d); g archive HEAD | tar -x -C "$export_dir"
  t0=$(now); node bin/nfhot.js patch "git+file://$repo@fix" --image $IMAGE >/dev/null 2>&1; t1=$(now)
  docker run --rm -v "$export_dir:/src" $IMAGE pip install -q --no-cache-dir --no-build-isolation --disable-pip-version-check /src >/dev/null 2>&1; t2=$(now)
  rm -rf "$export_dir"
  # Round 0 is the warm-up (nfhot probes the image's Pythons once per image).
  if [ "$i" -gt 0 ]; then awk -v i="$i" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%d\t%.2f\t%.2f\n", i, b - a, c - b }' | tee -a "$results"; fi
done
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
p=$(cut -f2 "$results" | median); d=$(cut -f3 "$results" | median)
awk -v p="$p" -v d="$d" 'BEGIN { printf "median\t%.2f\t%.2f\t(nfhot / docker run pip = %.2f)\n", p, d, p / d }'
rm -f "$results"
