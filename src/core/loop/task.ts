import { UserError } from '../base/errors.js';

/**
 * A Nextflow task's wrapper (`.command.run`), as its bash wrapper builder writes it: `nxf_launch()`
 * holds the container line (`[sudo] docker|podman [engine options] run -i … --name $NXF_BOXID
 * IMAGE COMMAND`), `on_exit()` writes the exit status to `<work dir>/.exitcode`, and every path of
 * the task's own directory in it is absolute.
 */
export interface TaskWrapper {
  text: string;
  /** The task's directory as the wrapper names it (unescaped). */
  workDir: string;
  /** The process and its tag, from the wrapper's metadata (`### name: '…'`), when it has them. */
  name?: string;
  engine: 'docker' | 'podman';
  /** The image the task ran, as Nextflow named it. */
  image: string;
  /**
   * The wrapper prints the task's stdout on its stderr and the task's stderr on its stdout: the
   * tee pipeline of Nextflow up to 26.07 swaps them once (`3>&1 1>&2 2>&3`); later ones swap back.
   */
  swapsOutput: boolean;
}

/** A path as nfhot writes it into a wrapper: every character a shell could split or expand escaped. */
export function shellPath(path: string): string {
  return path.replace(/[^A-Za-z0-9_./@%+=:,~-]/g, (c) => `\\${c}`);
}

/**
 * Where the wrapper mentions a path, however it escaped it (Nextflow escapes only some characters:
 * space, quotes, parentheses, `!&|<>`;:`): each character with or without a backslash, followed by
 * the end of the path.
 */
function mentions(path: string): RegExp {
  return new RegExp(`${[...path].map((c) => `\\\\?${escapeRegex(c)}`).join('')}(?=[/\\s"';:)]|$)`, 'gm');
}

const unescapePath = (text: string) => text.replace(/\\(.)/g, '$1');
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The launch command: the body of `nxf_launch()`. */
function launchOf(text: string): { start: number; line: string } | undefined {
  const m = /^nxf_launch\(\) \{\n([\s\S]*?)\n\}$/m.exec(text);
  if (!m) return undefined;
  return { start: m.index + m[0].indexOf(m[1]!), line: m[1]! };
}

const OTHER_RUNNERS: [RegExp, string][] = [
  [/\b(singularity|apptainer)\s+(exec|run)\b/, 'Singularity/Apptainer'],
  [/\bch-run\b/, 'Charliecloud'],
  [/\bshifter\b/, 'Shifter'],
  [/\bsarus\s+run\b/, 'Sarus'],
];

/**
 * Reads a task's `.command.run`. Throws a UserError saying what it is instead when it is not a
 * Nextflow wrapper, or its task did not run in a Docker or Podman container.
 */
export function readWrapper(text: string, where: string): TaskWrapper {
  const launch = launchOf(text);
  if (!launch || !/^NXF_ENTRY=/m.test(text)) {
    throw new UserError(
      `${where} is not a Nextflow task wrapper (it has no nxf_launch function)`,
      "give a task directory under the pipeline's work/, e.g. work/3f/9a1c2e… (the hash is in the error report and the trace)",
    );
  }
  const name = /^### name: '(.*)'$/m.exec(text)?.[1]?.replace(/\\'/g, "'");
  const container = /^\s*(?:sudo\s+)?(docker|podman)\s+(?:\S+\s+)*?run\s[\s\S]*?--name \$NXF_BOXID\s+(\S+)/.exec(
    launch.line,
  );
  if (!container) {
    const other = OTHER_RUNNERS.find(([re]) => re.test(launch.line));
    const named = /^### container: '(.*)'$/m.exec(text)?.[1];
    if (!other && named) {
      throw new UserError(
        `the task in ${where} ran in ${named}, started by its executor (Kubernetes, AWS Batch, Google Batch…), not by the wrapper`,
        'nfhot rerun re-runs tasks whose wrapper starts the container (the local and grid executors with -profile docker or podman)',
      );
    }
    throw new UserError(
      other
        ? `the task in ${where} ran under ${other[1]}, not Docker or Podman`
        : `the task in ${where} did not run in a container`,
      other
        ? 'nfhot rerun re-runs tasks of -profile docker or podman; with Singularity, patch with --singularity and rerun the pipeline'
        : 'run the pipeline with -profile docker (or podman) so that its tasks run in the images nfhot patches',
    );
  }
  const exitFile = /^\s*printf(?: --)? \$exit_status > (.+)\/\.exitcode\s*$/m.exec(text)?.[1];
  const script = /((?:\\.|[^\s\\])+)\/\.command\.(?:sh|run)\b/.exec(
    launch.line.slice(container.index + container[0].length),
  )?.[1];
  const raw = exitFile ?? script;
  if (!raw)
    throw new UserError(
      `cannot tell which directory the wrapper in ${where} belongs to`,
      'it names neither .exitcode nor .command.sh',
    );
  const tee = /^.*nxf_launch \| tee .*$/m.exec(text)?.[0] ?? '';
  const swapsOutput = (tee.match(/3>&1 1>&2 2>&3/g) ?? []).length % 2 === 1;
  return {
    text,
    workDir: unescapePath(raw),
    ...(name ? { name } : {}),
    engine: container[1] as 'docker' | 'podman',
    image: container[2]!,
    swapsOutput,
  };
}

/**
 * The wrapper made to run in `dir` with `image`: every mention of the task's directory names
 * `dir`, and `dir` is mounted into the container (with the same SELinux flag as the other mounts)
 * unless the wrapper mounted the task's directory itself.
 */
export function rewriteWrapper(wrapper: TaskWrapper, image: string, dir: string): string {
  const launch = launchOf(wrapper.text)!;
  let line = launch.line.replace(/(--name \$NXF_BOXID\s+)\S+/, (_, before: string) => before + image);
  // Nextflow mounts the task directory itself with read-only inputs, scratch, a symlinked work
  // directory, or when nothing else covers it: that mount moves to the copy with the rest.
  const mounted = new RegExp(`\\s-v\\s+(?:"\\$NXF_TASK_WORKDIR"|${mentions(wrapper.workDir).source}):`).test(line);
  if (dir !== wrapper.workDir && !mounted) {
    const selinux = /\s-v\s+\S+:\S+:(?:\S*,)?([zZ])\b/.exec(line)?.[1];
    const mount = `${shellPath(dir)}:${shellPath(dir)}${selinux ? `:${selinux}` : ''}`;
    line = line.replace('--name $NXF_BOXID', `-v ${mount} --name $NXF_BOXID`);
  }
  const text = wrapper.text.slice(0, launch.start) + line + wrapper.text.slice(launch.start + launch.line.length);
  if (dir === wrapper.workDir) return text;
  return text.replace(mentions(wrapper.workDir), () => shellPath(dir));
}

/** The names the wrapper stages in (`ln -s SRC NAME`, `cp -fRL SRC NAME`, `ln SRC NAME`): not outputs even when copied. */
export function stagedNames(wrapper: string): Set<string> {
  const names = new Set<string>();
  const word = String.raw`(?:\\.|[^\s\\])+`;
  const staging = new RegExp(
    String.raw`^\s*(?:mkdir -p ${word} && )?(?:ln(?: -sfn| -s| -f)?|cp -fRL) ${word} (${word})\s*$`,
    'gm',
  );
  for (const m of wrapper.matchAll(staging)) names.add(unescapePath(m[1]!).split('/')[0]!);
  return names;
}

/** What a run of the wrapper writes into its directory, besides the task's outputs: never copied for a rerun. */
export const RUN_FILES = new Set([
  '.command.out',
  '.command.err',
  '.command.log',
  '.command.begin',
  '.command.trace',
  '.command.env',
  '.exitcode',
]);
