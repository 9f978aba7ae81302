import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A task work directory of the shape Nextflow 24.10–25.10 writes for the local executor with
 * Docker or Podman (BashWrapperBuilder, DockerBuilder/PodmanBuilder): `.command.sh`, and a
 * `.command.run` whose functions do what Nextflow's do (stage the inputs as links, launch the
 * container with the builder's options in the builder's order, tee the task's output into
 * .command.out/.err, write .exitcode, remove the container). Written by us from the facts read in
 * Nextflow's source, not copied from it; the parts nfhot reads are as Nextflow renders them.
 */
export interface TaskSpec {
  /** The pipeline's work directory; the task's goes under it as `ab/<30 hex>`. */
  work: string;
  hash?: string;
  name?: string;
  image: string;
  engine?: 'docker' | 'podman';
  /** The task script (after the shebang). */
  script: string;
  /** Input name → absolute source path, staged as symlinks. */
  inputs?: Record<string, string>;
  /** docker.runOptions, e.g. '-u $(id -u):$(id -g)'. */
  runOptions?: string;
  /** The task's environment (config env {}, bin/ on PATH): passed through nxf_container_env. */
  env?: Record<string, string>;
  /** Run the task through `.command.run nxf_trace` inside the container, as with trace reports or fixOwnership. */
  trace?: boolean;
  /** Extra mounts beside the work directory. */
  mounts?: string[];
  /** docker.engineOptions / podman.engineOptions: between the program and `run` (and, here, `rm` and `stop`). */
  engineOptions?: string;
}

export interface TaskDir {
  dir: string;
  /** The directory's name under work/: `ab/<30 hex>`. */
  id: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A path as Nextflow writes it into the wrapper (Escape.path: these characters get a backslash, no others). */
export const nextflowPath = (path: string) => path.replace(/[ '"()\\!&|<>`:;]/g, (c) => `\\${c}`);

export function writeTask(spec: TaskSpec): TaskDir {
  const hash =
    spec.hash ??
    `${Math.random().toString(16).slice(2, 4).padEnd(2, '0')}/${[...Array(30)].map(() => Math.floor(Math.random() * 16).toString(16)).join('')}`;
  const dir = join(spec.work, hash);
  mkdirSync(dir, { recursive: true });
  const engine = spec.engine ?? 'docker';
  const program = spec.engineOptions ? `${engine} ${spec.engineOptions}` : engine;
  const wd = nextflowPath(dir);
  writeFileSync(join(dir, '.command.sh'), `#!/bin/bash -ue\n${spec.script}\n`);
  chmodSync(join(dir, '.command.sh'), 0o755);
  const env = Object.entries(spec.env ?? {});
  const launcher = spec.trace ? `/bin/bash ${wd}/.command.run nxf_trace` : `/bin/bash -ue ${wd}/.command.sh`;
  const command = env.length ? `/bin/bash -c "eval $(nxf_container_env); ${launcher}"` : launcher;
  const mounts = [...(spec.mounts ?? []), spec.work].map((m) => `-v ${nextflowPath(m)}:${nextflowPath(m)}`).join(' ');
  const envs = ['-e "NXF_TASK_WORKDIR"', ...(spec.trace ? ['-e "NXF_DEBUG=${NXF_DEBUG:=0}"'] : [])].join(' ');
  const run =
    engine === 'docker'
      ? `${program} run -i --cpu-shares 1024 ${envs} ${mounts} -w "$NXF_TASK_WORKDIR" ${spec.runOptions ? `${spec.runOptions} ` : ''}--name $NXF_BOXID ${spec.image} ${command}`
      : `${program} run -i ${envs} ${mounts} -w "$NXF_TASK_WORKDIR" ${spec.runOptions ? `${spec.runOptions} ` : ''}--cpu-shares 1024 --name $NXF_BOXID ${spec.image} ${command}`;
  const inputs = Object.entries(spec.inputs ?? {});
  const stage = inputs.length
    ? [
        '# stage input files',
        ...inputs.map(([n]) => `rm -f ${nextflowPath(n)}`),
        ...inputs.map(([n, src]) => `ln -s ${nextflowPath(src)} ${nextflowPath(n)}`),
      ]
    : [];
  const wrapper = [
    '#!/bin/bash',
    '### ---',
    `### name: ${q(spec.name ?? 'TASK (1)')}`,
    `### container: ${q(spec.image)}`,
    '### ...',
    'set -e',
    'set -u',
    'NXF_DEBUG=${NXF_DEBUG:=0}; [[ $NXF_DEBUG > 1 ]] && set -x',
    'NXF_ENTRY=${1:-nxf_main}',
    '',
    ...(spec.trace
      ? [
          'nxf_trace() {',
          '    # the task as the trace wrapper runs it inside the container',
          `    /bin/bash -ue ${wd}/.command.sh`,
          `    echo "realtime=0" > ${wd}/.command.trace`,
          '}',
          '',
        ]
      : []),
    ...(env.length
      ? [
          'nxf_container_env() {',
          'cat << EOF',
          ...env.map(([k, v]) => `export ${k}="${v.replace(/\$/g, '\\$')}"`),
          'EOF',
          '}',
          '',
        ]
      : []),
    'on_exit() {',
    '    local last_err=$?',
    '    local exit_status=${nxf_main_ret:=0}',
    '    [[ ${exit_status} -eq 0 && ${last_err} -ne 0 ]] && exit_status=${last_err}',
    `    printf -- $exit_status > ${wd}/.exitcode`,
    '    set +u',
    `    ${program} rm $NXF_BOXID &>/dev/null || true`,
    '    exit $exit_status',
    '}',
    '',
    'on_term() {',
    '    set +e',
    `    ${program} stop $NXF_BOXID`,
    '}',
    '',
    'nxf_launch() {',
    `    ${run}`,
    '}',
    '',
    'nxf_stage() {',
    '    true',
    ...stage.map((l) => `    ${l}`),
    '}',
    '',
    'nxf_unstage() {',
    '    true',
    '}',
    '',
    'nxf_main() {',
    '    trap on_exit EXIT',
    '    trap on_term TERM INT USR2',
    "    trap '' USR1",
    '',
    '    [[ "${NXF_CHDIR:-}" ]] && cd "$NXF_CHDIR"',
    '    export NXF_BOXID="nxf-$(dd bs=18 count=1 if=/dev/urandom 2>/dev/null | base64 | tr +/ 0A | tr -d \'\\r\\n\')"',
    "    NXF_SCRATCH=''",
    '    [[ $NXF_DEBUG > 0 ]] && nxf_env',
    `    touch ${wd}/.command.begin`,
    '    set +u',
    '    set -u',
    '    [[ $NXF_SCRATCH ]] && cd $NXF_SCRATCH',
    '    export NXF_TASK_WORKDIR="$PWD"',
    '    nxf_stage',
    '',
    '    set +e',
    '    (set -o pipefail; (nxf_launch | tee .command.out) 3>&1 1>&2 2>&3 | tee .command.err) &',
    '    pid=$!',
    '    wait $pid || nxf_main_ret=$?',
    '    nxf_unstage',
    '}',
    '',
    '$NXF_ENTRY',
    '',
  ].join('\n');
  writeFileSync(join(dir, '.command.run'), wrapper);
  return { dir, id: hash };
}
