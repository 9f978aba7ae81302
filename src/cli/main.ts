import yargs, { type Argv } from 'yargs';
import type { Context } from '../core/base/context.js';
import { UsageError, UserError, type ImageFailure } from '../core/base/errors.js';
import { packagePath, packageVersion } from '../core/base/assets.js';
import { redact } from '../core/base/redact.js';
import { ENGINES, type EngineName } from '../core/ports/engine.js';
import { EXPORT_FORMATS, type ExportFormat } from '../core/loop/export.js';
import { formatDiff, formatIncludes, formatPlugin, formatModel, formatRerun, formatRollback, formatStatus } from './format.js';
import { choose } from './prompt.js';
import type { RunOptions } from '../core/pipeline/syntax.js';

export const VERSION = packageVersion();

const out = (text: string): void => void process.stdout.write(redact(text) + '\n');

/** Set by a command that a signal ends as it should (watch, and what runs a task or a shell): no "came too late" then. */
let stoppedOnPurpose = false;
/** The exit code of what a command ran (rerun's task, shell's command): nfhot's own. */
let exitWith: number | undefined;

/** The one place that prints an error and decides the exit code. */
function fail(err: unknown, json: boolean): number {
  const user = err instanceof UserError ? err : undefined;
  const message = redact(user ? user.message : `internal error: ${(err as Error)?.message ?? String(err)}`);
  process.stderr.write(`nfhot: error: ${message}\n`);
  if (user?.hint) process.stderr.write(`  hint: ${redact(user.hint)}\n`);
  if (!user) {
    if (process.env.NFHOT_DEBUG) process.stderr.write(`${redact((err as Error)?.stack ?? '')}\n`);
    else process.stderr.write('  (set NFHOT_DEBUG=1 to see where)\n');
  }
  if (json && !(err instanceof PartlyFailed)) out(JSON.stringify({ error: message, ...(user?.hint ? { hint: redact(user.hint) } : {}), ...(user?.detail ? { detail: redact(user.detail) } : {}) }));
  return user?.exitCode ?? 1;
}

/** The result is on stdout already, failures included: the error is only said on stderr. */
class PartlyFailed extends UserError {}

/**
 * Prints a command's result: JSON, or what `human` makes of it. When some of its images failed
 * (the others were done, and the includes rewritten), says which and exits 1.
 */
function finish<R extends { images: { image: string }[]; failed?: ImageFailure[] }>(json: boolean, result: R, human: (result: R) => string): void {
  const failed = result.failed ?? [];
  // An image patched but not pushed is one image, done and failed.
  const all = new Set([...failed.map((f) => f.image), ...result.images.map((i) => i.image)]).size;
  const summary = failed.length ? `${failed.length} of ${all} image${all === 1 ? '' : 's'} failed: ${failed.map((f) => `${f.image}: ${f.error}`).join('; ')}` : undefined;
  if (json) out(JSON.stringify(summary ? { ...result, error: summary } : result, null, 2));
  else {
    const text = human(result);
    if (text) out(text);
  }
  if (summary) throw new PartlyFailed(summary, failed.length === 1 ? failed[0]!.hint : undefined);
}

const jsonOption = { json: { type: 'boolean', default: false, describe: 'print one JSON document on stdout' } } as const;
const pipelineOptions = {
  pipeline: { type: 'string', describe: 'the pipeline directory whose nfhot.config to keep (default: the current directory when it has main.nf or nextflow.config)' },
  profile: { type: 'string', describe: 'config profile(s) to read the pipeline with, comma-separated, as for nextflow run -profile (default: docker, when defined)' },
  include: { type: 'string', describe: "where to write the pipeline's include (default: nfhot.config in the pipeline); for a pipeline whose files you leave as they are: nextflow run … -c FILE" },
  syntax: { type: 'string', choices: ['v1', 'v2'], describe: "the parser the run reads the pipeline with (default: NXF_SYNTAX_PARSER, else the default of the nextflow on PATH: v2, the strict one, from 26.04)" },
  'params-file': { type: 'string', describe: "the run's -params-file (YAML or JSON): the pipeline is read with its params" },
  param: { type: 'string', array: true, describe: 'a param the run gets on its command line, as NAME=VALUE (repeatable): --param aligner=hisat2 for nextflow run … --aligner hisat2' },
  config: { alias: 'c', type: 'string', array: true, describe: "a config file the run gets with -c (repeatable; a site's config: its executor, registry, profiles), read after nextflow.config" },
} as const;
/** The run the pipeline is read for (pipelineOptions' --syntax, --params-file, --param, -c). */
const runOf = (args: { syntax?: string | undefined; 'params-file'?: string | undefined; param?: string[] | undefined; config?: string[] | undefined }): RunOptions => ({
  ...(args.syntax !== undefined ? { syntax: args.syntax } : {}),
  ...(args['params-file'] !== undefined ? { paramsFile: args['params-file'] } : {}),
  ...(args.param?.length ? { params: args.param } : {}),
  ...(args.config?.length ? { configs: args.config } : {}),
});
/** Which images, and how the package goes in: patch's and watch's. */
const installOptions = {
  image: { type: 'string', array: true, default: [] as string[], describe: 'image to patch (repeatable; default: the images of the pipeline that have the package)' },
  python: { type: 'string', describe: 'interpreter inside the image to install with' },
  'no-deps': { type: 'boolean', default: false, describe: 'install the package alone, not its dependencies' },
  'keep-tag': { type: 'boolean', default: false, describe: "leave the image's own tag on the original: only the immutable reference, the include and the docker shim run the patch" },
} as const;
const profilesOf = (profile: string | undefined) => (profile === undefined ? undefined : profile.split(',').map((p) => p.trim()).filter(Boolean));

function commands(cli: Argv, context: () => Promise<Context>): Argv {
  return cli
    .command(
      'patch <source>',
      'install a Python package source into images and tag the result under the same tag and an immutable reference',
      (y) =>
        y
          .positional('source', { type: 'string', demandOption: true, describe: 'git+URL@REF, a local directory (its working tree as it is now), or NAME@REF' })
          .options({
            ...installOptions,
            repo: { type: 'string', describe: 'repository of a NAME@REF source' },
            'add-include': { type: 'boolean', default: false, describe: `add includeConfig 'nfhot.config' to the pipeline's nextflow.config if missing` },
            push: { type: 'string', describe: 'then push the result to REGISTRY[/PREFIX] (the include pins it by digest)' },
            singularity: { type: 'boolean', default: false, describe: 'also build its SIF file (singularity or apptainer, from the Docker daemon) into Nextflow\'s cache directory; the include points Singularity/Apptainer runs at it' },
            'dry-run': { type: 'boolean', default: false, describe: 'show what would happen; change nothing' },
            ...pipelineOptions,
            ...jsonOption,
          })
          .example('$0 patch ./pkg', 'in a pipeline directory: patch its images that have the package, write nfhot.config')
          .example('$0 patch git+https://github.com/org/pkg.git@fix --image org/tool:dev', '')
          .example('$0 patch ./pkg --image org/tool:dev', 'the working tree, uncommitted edits included')
          .example('$0 patch pkg@fix --image org/tool:dev', 'repository from the package metadata in the image'),
      async (args) => {
        const { patch } = await import('../commands/patch.js');
        const result = await patch(
          {
            source: args.source,
            images: args.image,
            repo: args.repo,
            python: args.python,
            noDeps: args['no-deps'],
            dryRun: args['dry-run'],
            keepTag: args['keep-tag'],
            addInclude: args['add-include'],
            pipeline: args.pipeline,
            profiles: profilesOf(args.profile),
            run: runOf(args),
            ...(args.include !== undefined ? { include: args.include } : {}),
            ...(args.push !== undefined ? { push: args.push } : {}),
            singularity: args.singularity,
          },
          await context(),
        );
        finish(args.json, result, (r) => {
          for (const i of r.images) process.stderr.write(redact(`nfhot: ${i.image} → ${i.derivative} (${i.action}, ${i.seconds.toFixed(1)} s)\n`));
          return r.images.map((i) => r.pushed?.find((p) => p.image === i.image)?.reference ?? i.derivative).join('\n');
        });
      },
    )
    .command(
      'watch <dir>',
      'patch a working copy into its images, then again on every change (hot reload); run a command after each patch',
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true, describe: "the package's working copy" })
          .options({
            ...installOptions,
            'rollback-on-exit': { type: 'boolean', default: false, describe: 'on Ctrl-C, roll the images back (default: the last good patch stays)' },
            push: { type: 'string', describe: 'push each patch to REGISTRY[/PREFIX] before the command runs (the include pins it by digest): for executors off this machine' },
            ...pipelineOptions,
          })
          .example('$0 watch ./pkg -- nextflow run . -profile docker -resume', 'in a pipeline directory: patch on every save, then rerun the pipeline')
          .example('$0 watch ./pkg --image org/tool:dev', ''),
      async (args) => {
        const { watch } = await import('../commands/watch.js');
        const command = ((args['--'] as unknown[] | undefined) ?? []).map(String);
        await watch(
          {
            dir: args.dir,
            images: args.image,
            python: args.python,
            noDeps: args['no-deps'],
            keepTag: args['keep-tag'],
            rollbackOnExit: args['rollback-on-exit'],
            ...(args.push !== undefined ? { push: args.push } : {}),
            pipeline: args.pipeline,
            profiles: profilesOf(args.profile),
            run: runOf(args),
            ...(args.include !== undefined ? { include: args.include } : {}),
            ...(command.length ? { command } : {}),
          },
          await context(),
          (result) => out(result.images.map((i) => i.derivative).join('\n')),
        );
        stoppedOnPurpose = true;
      },
    )
    .command(
      'rollback [images..]',
      'point each tag at its exact original image again',
      (y) =>
        y
          .positional('images', { type: 'string', array: true, default: [] as string[] })
          .options({
            all: { type: 'boolean', default: false, describe: 'every patched image' },
            force: { type: 'boolean', default: false, describe: 'roll back even when the tag was re-pointed since the patch' },
            ...pipelineOptions,
            ...jsonOption,
          }),
      async (args) => {
        const { rollback } = await import('../commands/rollback.js');
        const result = await rollback({ images: args.images, all: args.all, force: args.force, pipeline: args.pipeline, profiles: profilesOf(args.profile), run: runOf(args), ...(args.include !== undefined ? { include: args.include } : {}) }, await context());
        finish(args.json, result, (r) => formatRollback(r.images));
      },
    )
    .command(
      'push [images..]',
      'push the patched images (default: all) to a registry, for executors on other machines; the include then pins them by digest',
      (y) =>
        y
          .positional('images', { type: 'string', array: true, default: [] as string[] })
          .options({
            to: { type: 'string', demandOption: true, describe: 'REGISTRY[/PREFIX], e.g. registry.example.org/team' },
            ...pipelineOptions,
            ...jsonOption,
          }),
      async (args) => {
        const { push } = await import('../commands/push.js');
        const result = await push({ images: args.images, to: args.to, pipeline: args.pipeline, profiles: profilesOf(args.profile), run: runOf(args), ...(args.include !== undefined ? { include: args.include } : {}) }, await context());
        finish(args.json, result, (r) => r.images.map((i) => i.reference).join('\n'));
      },
    )
    .command(
      'status',
      'list patched images, their original and active patches, read from the daemon',
      (y) => y.options(jsonOption),
      async (args) => {
        const { status } = await import('../commands/status.js');
        const result = await status(await context());
        if (args.json) return out(JSON.stringify(result, null, 2));
        if (result.images.length === 0) return void process.stderr.write('nfhot: no patched images\n');
        out(formatStatus(result.images));
      },
    )
    .command(
      'config',
      'show the pipeline\'s processes and the image each runs under Docker, and rewrite nfhot.config from what is patched',
      (y) =>
        y.options({
          check: { type: 'boolean', default: false, describe: 'the preflight: exit 1 when a patched process would not get its patch in a run with these profiles; and compare with what `nextflow inspect` reports (when nextflow is on PATH)' },
          'add-include': { type: 'boolean', default: false, describe: `add includeConfig 'nfhot.config' to nextflow.config if missing` },
          'dry-run': { type: 'boolean', default: false, describe: 'do not write nfhot.config' },
          list: { type: 'boolean', default: false, describe: 'list the includes nfhot keeps (every pipeline whose nfhot.config it wrote), and what each points at' },
          ...pipelineOptions,
          ...jsonOption,
        }),
      async (args) => {
        const { config, listIncludes } = await import('../commands/config.js');
        if (args.list) {
          const includes = await listIncludes();
          return out(args.json ? JSON.stringify({ includes }, null, 2) : formatIncludes(includes));
        }
        const result = await config(
          { pipeline: args.pipeline, profiles: profilesOf(args.profile), run: runOf(args), ...(args.include !== undefined ? { include: args.include } : {}), check: args.check, addInclude: args['add-include'], dryRun: args['dry-run'] },
          await context(),
        );
        out(args.json ? JSON.stringify(result, null, 2) : formatModel(result.model, result.include));
        const missed = result.include.verdicts.filter((v) => !v.uses);
        if (args.check && missed.length) throw new PartlyFailed(`${missed.length} patched process(es) would not get their patch in a run with ${result.model.profiles.length ? `-profile ${result.model.profiles.join(',')}` : 'no profile'}: ${missed.map((v) => v.process).join(', ')}`);
      },
    )
    .command(
      'rerun <dir>',
      'run a task of the pipeline again, from its work directory, with the image as nfhot has it patched now',
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true, describe: "the task's work directory (work/ab/cdef…)" })
          .options({
            image: { type: 'string', describe: 'run this image (resolved as nfhot resolve does) instead of the one the task ran' },
            'in-place': { type: 'boolean', default: false, describe: "run in the task's own directory (its outputs and .exitcode are overwritten; a later -resume trusts them) instead of a copy" },
            ...jsonOption,
          })
          .example('$0 rerun work/3f/9a1c2e7b5d4f60a8b2c1e0d9f8a7b6', 'the failed task, with the patch; Nextflow\'s work dir untouched'),
      async (args) => {
        const { rerun } = await import('../commands/rerun.js');
        const result = await rerun({ dir: args.dir, ...(args.image !== undefined ? { image: args.image } : {}), inPlace: args['in-place'], stdout: args.json ? 'stderr' : 'stdout' }, await context());
        stoppedOnPurpose = true;
        exitWith = result.exitCode;
        process.stderr.write(redact(formatRerun(result)));
        if (args.json) out(JSON.stringify(result, null, 2));
      },
    )
    .command(
      'shell [image]',
      'an interactive shell (or -- COMMAND) in the patched image, the current directory mounted, as a task sees it',
      (y) =>
        y
          .positional('image', { type: 'string', describe: 'default: the patched image of the pipeline here (asked which when there are several)' })
          .options({
            'as-task': { type: 'boolean', default: false, describe: "run as your uid:gid, as nf-core's docker profile runs tasks" },
            ...pipelineOptions,
          })
          .example('$0 shell quay.io/org/tool:dev', '')
          .example("echo 'pip list' | $0 shell quay.io/org/tool:dev", 'no terminal: stdin passed through')
          .example('$0 shell --as-task -- python -m pytest', ''),
      async (args) => {
        const { shell } = await import('../commands/shell.js');
        const command = ((args['--'] as unknown[] | undefined) ?? []).map(String);
        const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
        const result = await shell(
          { ...(args.image !== undefined ? { image: args.image } : {}), asTask: args['as-task'], command, pipeline: args.pipeline, profiles: profilesOf(args.profile), run: runOf(args), tty, cwd: process.cwd(), ...(tty ? { choose } : {}) },
          await context(),
        );
        stoppedOnPurpose = true;
        exitWith = result.exitCode;
      },
    )
    .command(
      'diff <image>',
      'what the patch changed against the original: packages (version before → after, source) and files',
      (y) => y.positional('image', { type: 'string', demandOption: true }).options(jsonOption),
      async (args) => {
        const { diff } = await import('../commands/diff.js');
        const result = await diff(args.image, await context());
        out(args.json ? JSON.stringify(result, null, 2) : formatDiff(result));
      },
    )
    .command(
      'export <image>',
      'what to put in the real image build to make the patch permanent: Dockerfile lines, environment.yml or requirements',
      (y) =>
        y
          .positional('image', { type: 'string', demandOption: true })
          .options({
            format: { choices: EXPORT_FORMATS, default: 'dockerfile' as ExportFormat, describe: 'what to print' },
            sdist: { type: 'string', describe: 'write a working copy with no published commit as an sdist into DIR, with the Dockerfile (or file) beside it' },
            ...jsonOption,
          })
          .example('$0 export quay.io/org/tool:dev > Dockerfile', '')
          .example('$0 export quay.io/org/tool:dev --format conda', 'the environment.yml pip: entry'),
      async (args) => {
        const { exportPatch } = await import('../commands/export.js');
        const result = await exportPatch({ image: args.image, format: args.format, ...(args.sdist !== undefined ? { sdist: args.sdist } : {}) }, await context());
        for (const file of result.written) process.stderr.write(redact(`nfhot: wrote ${file}\n`));
        out(args.json ? JSON.stringify(result, null, 2) : result.text.replace(/\n$/, ''));
      },
    )
    .command(
      'shim',
      'print the line that puts nfhot\'s docker shim first on PATH, for runners other than Nextflow',
      (y) => y,
      () => out(`export PATH="${packagePath('shims')}:$PATH"`),
    )
    .command(
      'plugin <action>',
      "install, remove or check nf-hot, nfhot's Nextflow plugin: nextflow run … -plugins nf-hot@VERSION gives every task its patch at run time, with no include",
      (y) =>
        y
          .positional('action', { choices: ['install', 'uninstall', 'status'] as const, demandOption: true })
          .options({ 'nxf-home': { type: 'string', describe: "Nextflow's home, whose plugins directory to use (default: NXF_PLUGINS_DIR, else $NXF_HOME/plugins, else ~/.nextflow/plugins)" }, ...jsonOption })
          .example('$0 plugin install', 'then: nextflow run PIPELINE -plugins nf-hot@VERSION'),
      async (args) => {
        const { plugin } = await import('../commands/plugin.js');
        const result = await plugin(args.action, args['nxf-home'], await context());
        if (args.json) out(JSON.stringify(result, null, 2));
        else if (result.action === 'status') out(formatPlugin(result).join('\n')); // the answer asked for
        else {
          for (const line of formatPlugin(result)) process.stderr.write(redact(`nfhot: ${line}\n`));
          if (result.action === 'install') out(result.spec); // the -plugins value, last on stdout
        }
      },
    )
    .command(
      'resolve <image>',
      'print the reference a runner should use for IMAGE: its immutable derivative when patched, else IMAGE',
      (y) => y.positional('image', { type: 'string', demandOption: true }).options(jsonOption),
      async (args) => {
        const { resolve } = await import('../commands/resolve.js');
        const reference = await resolve(args.image, await context());
        out(args.json ? JSON.stringify({ image: args.image, reference, patched: reference !== args.image }) : reference);
      },
    );
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let interrupted = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // The first signal lets the run clean up (remove its container, release its lock); a second one quits now.
    if (interrupted++ > 0) process.exit(signal === 'SIGTERM' ? 143 : 130);
    process.stderr.write(`\nnfhot: ${signal}: stopping and cleaning up…\n`);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const json = argv.includes('--json');
  let ctx: Promise<Context> | undefined;
  let engine: EngineName | undefined;
  const context = () => (ctx ??= import('./context.js').then((m) => m.defaultContext(controller.signal, engine)));
  try {
    const cli = yargs(argv);
    // yargs renders a command's whole help as it starts it, to show it should the command fail;
    // nfhot never shows it then (its errors point to --help), and the rendering holds up the start.
    (cli as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } }).getInternalMethods().getUsageInstance().cacheHelpMessage = () => undefined;
    await commands(cli, context)
      .option('engine', {
        choices: ENGINES,
        global: true,
        describe: 'the container engine: podman = its API service at CONTAINER_HOST or its socket (default: the service at DOCKER_HOST or Docker\'s socket, Docker or Podman)',
      })
      .middleware((args) => {
        engine = args.engine;
        // Only watch and shell take a command after --; elsewhere words after -- would be dropped unsaid.
        const after = (args['--'] as unknown[] | undefined) ?? [];
        if (after.length && args._[0] !== 'watch' && args._[0] !== 'shell') throw new UsageError(`unexpected ${after.map((a) => JSON.stringify(String(a))).join(' ')} after --`, 'only nfhot watch and nfhot shell take a command after --');
      })
      .scriptName('nfhot')
      .usage('$0 <command> [options]\n\nHot-patch a Python package inside a pipeline\'s container image.')
      .demandCommand(1, 'name a command')
      .strict()
      // No --no-X negation: --no-deps is an option of its own (negation would read it as --deps=false, unknown in strict mode).
      .parserConfiguration({ 'populate--': true, 'boolean-negation': false })
      .version(VERSION)
      .help()
      .alias('h', 'help')
      .wrap(Math.min(100, process.stdout.columns || 100))
      .exitProcess(false)
      .fail((message, err) => {
        throw err ?? new UsageError(message, 'see nfhot --help, or nfhot <command> --help');
      })
      .parseAsync();
    // A signal that came once there was nothing left to stop: the command completed, but not with 0.
    if (controller.signal.aborted) {
      if (stoppedOnPurpose) return exitWith ?? (controller.signal.reason === 'SIGTERM' ? 143 : 130);
      process.stderr.write(`nfhot: ${String(controller.signal.reason)} came too late to stop: the command completed\n`);
      return controller.signal.reason === 'SIGTERM' ? 143 : 130;
    }
    return exitWith ?? 0;
  } catch (err) {
    return fail(err, json);
  }
}
