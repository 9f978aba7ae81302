#!/usr/bin/env bash
# Runs one task of the example pipeline as Nextflow's local executor with Docker does, since
# Nextflow itself cannot be installed here: it makes the task's work directory under work/ (the
# task script .command.sh, and the wrapper .command.run in the shape Nextflow 24.10–25.10 writes:
# inputs staged as links, `docker run -i … -w "$NXF_TASK_WORKDIR" -u UID:GID --name $NXF_BOXID
# IMAGE /bin/bash -ue …/.command.sh`, output teed into .command.out/.err, .exitcode), then runs
# `bash .command.run` there. The image is the one the pipeline's config gives that process under
# Docker: nfhot.config's immutable reference when the process is patched, else its own container.
# Prints the task's output file; the work directory is said on stderr; exits with the task's code.
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

hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
wd=$here/work/$(hex 1)/$(hex 15)
mkdir -p "$wd"
# Paths as Nextflow writes them into the wrapper: escaped for the shell.
wq=$(printf '%q' "$wd") hq=$(printf '%q' "$here")
cat > "$wd/.command.sh" <<'SCRIPT'
#!/bin/bash -ue
cat sequences.txt | seqstats > sequences.gc.tsv
SCRIPT
cat > "$wd/.command.run" <<WRAPPER
#!/bin/bash
### ---
### name: '${process} (sequences.txt)'
### container: '${image}'
### outputs:
### - 'sequences.gc.tsv'
### ...
set -e
set -u
NXF_DEBUG=\${NXF_DEBUG:=0}; [[ \$NXF_DEBUG > 1 ]] && set -x
NXF_ENTRY=\${1:-nxf_main}

on_exit() {
    local last_err=\$?
    local exit_status=\${nxf_main_ret:=0}
    [[ \${exit_status} -eq 0 && \${last_err} -ne 0 ]] && exit_status=\${last_err}
    printf -- \$exit_status > $wq/.exitcode
    set +u
    docker rm \$NXF_BOXID &>/dev/null || true
    exit \$exit_status
}

on_term() {
    set +e
    docker stop \$NXF_BOXID
}

nxf_launch() {
    docker run -i --cpu-shares 1024 -e "NXF_TASK_WORKDIR" -v $hq:$hq -w "\$NXF_TASK_WORKDIR" -u \$(id -u):\$(id -g) --name \$NXF_BOXID $image /bin/bash -ue $wq/.command.sh
}

nxf_stage() {
    true
    # stage input files
    rm -f sequences.txt
    ln -s $hq/assets/sequences.txt sequences.txt
}

nxf_unstage() {
    true
}

nxf_main() {
    trap on_exit EXIT
    trap on_term TERM INT USR2
    trap '' USR1

    [[ "\${NXF_CHDIR:-}" ]] && cd "\$NXF_CHDIR"
    export NXF_BOXID="nxf-\$(dd bs=18 count=1 if=/dev/urandom 2>/dev/null | base64 | tr +/ 0A | tr -d '\r\n')"
    NXF_SCRATCH=''
    touch $wq/.command.begin
    [[ \$NXF_SCRATCH ]] && cd \$NXF_SCRATCH
    export NXF_TASK_WORKDIR="\$PWD"
    nxf_stage

    set +e
    (set -o pipefail; (nxf_launch | tee .command.out) 3>&1 1>&2 2>&3 | tee .command.err) &
    pid=\$!
    wait \$pid || nxf_main_ret=\$?
    nxf_unstage
}

\$NXF_ENTRY
WRAPPER
printf 'task %s: work directory %s\n' "$process" "${wd#"$here/"}" >&2
code=0
(cd "$wd" && bash .command.run) || code=$?
if [ "$code" -eq 0 ]; then cat "$wd/sequences.gc.tsv"; else printf 'task %s failed with exit code %s: see %s\n' "$process" "$code" "${wd#"$here/"}" >&2; fi
exit "$code"
