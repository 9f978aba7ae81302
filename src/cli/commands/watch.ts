import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { pipelineOptions, installOptions, pipelineOf } from '../common/options.js';
import { out, runState } from '../common/output.js';

/** `nfhot watch`: its arguments, options and help, and the call of commands/watch.ts. */
export const watchCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: "the package's working copy" })
        .options({
          ...installOptions,
          'rollback-on-exit': {
            type: 'boolean',
            default: false,
            describe: 'on Ctrl-C, roll the images back (default: the last good patch stays)',
          },
          push: {
            type: 'string',
            describe:
              'push each patch to REGISTRY[/PREFIX] before the command runs (the include pins it by digest): for executors off this machine',
          },
          ...pipelineOptions,
        })
        .example(
          '$0 watch ./pkg -- nextflow run . -profile docker -resume',
          'in a pipeline directory: patch on every save, then rerun the pipeline',
        )
        .example('$0 watch ./pkg --image org/tool:dev', ''),
    async (args) => {
      const { watch } = await import('../../commands/watch.js');
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
          ...pipelineOf(args),
          ...(command.length ? { command } : {}),
        },
        await context(),
        (result) => out(result.images.map((i) => i.derivative).join('\n')),
      );
      runState.stoppedOnPurpose = true;
    },
  );
