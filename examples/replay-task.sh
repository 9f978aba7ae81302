#!/usr/bin/env bash
# Runs one task of the example pipeline the way Nextflow's Docker executor does (DockerBuilder:
# `docker run -i -e NXF_TASK_WORKDIR -v WD:WD -w WD [runOptions] --name nxf-... IMAGE /bin/bash -ue
# WD/.command.sh`), with the image the pipeline's config gives that process under Docker:
# nfhot.config's immutable reference when the process is patched, else its own container.
# Nextflow itself cannot be installed here; this is its task invocation, replayed.
# Usage: examples/replay-task.sh [PROCESS]   (default NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
process=${1:-NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC}

image=$(node "$here/../bin/nfhot.js" config --pipeline "$here" --dry-run --json 2>/dev/null | node -e '
  let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
    const { model, include } = JSON.parse(s);
    const name = process.argv[1];
    const override = include.overrides.find((o) => o.processes.includes(name));
    const inst = model.instances.find((i) => (i.fqn ?? i.alias) === name);
    if (!inst) { console.error(`no process ${name}`); process.exit(1); }
    console.log(override ? override.reference : inst.container.image);
  });' "$process")

work=$(mktemp -d /tmp/nfhot-replay.XXXXXX)
trap 'rm -rf "$work"' EXIT
wd=$work/work/a1/b2c3d4e5f6
mkdir -p "$wd"
chmod -R a+rwx "$work"
cp "$here/assets/sequences.txt" "$wd/sequences.txt"
cat > "$wd/.command.sh" <<'SCRIPT'
#!/bin/bash -ue
cat sequences.txt | seqstats > sequences.gc.tsv
SCRIPT
chmod a+rwx "$wd" && chmod a+r "$wd/.command.sh" "$wd/sequences.txt"

name=nxf-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
cmd=(docker run -i -e "NXF_TASK_WORKDIR" -v "$wd:$wd" -w "$wd" -u "$(id -u):$(id -g)" --name "$name" "$image" /bin/bash -ue "$wd/.command.sh")
printf '$ %s\n' "${cmd[*]}" >&2
NXF_TASK_WORKDIR=$wd "${cmd[@]}"
docker rm "$name" >/dev/null
cat "$wd/sequences.gc.tsv"
