import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { pipelineOptions, runOf, profilesOf } from '../common/options.js';
import { runState } from '../common/output.js';
import { choose } from '../common/prompt.js';

/** `nfhot shell`: its arguments, options and help, and the call of commands/shell.ts. */
export const shellCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) =>
      y
        .positional('image', {
          type: 'string',
          describe: 'default: the patched image of the pipeline here (asked which when there are several)',
        })
        .options({
          'as-task': {
            type: 'boolean',
            default: false,
            describe: "run as your uid:gid, as nf-core's docker profile runs tasks",
          },
          ...pipelineOptions,
        })
        .example('$0 shell quay.io/org/tool:dev', '')
        .example("echo 'pip list' | $0 shell quay.io/org/tool:dev", 'no terminal: stdin passed through')
        .example('$0 shell --as-task -- python -m pytest', ''),
    async (args) => {
      const { shell } = await import('../../commands/shell.js');
      const command = ((args['--'] as unknown[] | undefined) ?? []).map(String);
      const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
      const result = await shell(
        {
          ...(args.image !== undefined ? { image: args.image } : {}),
          asTask: args['as-task'],
          command,
          pipeline: args.pipeline,
          profiles: profilesOf(args.profile),
          run: runOf(args),
          tty,
          cwd: process.cwd(),
          ...(tty ? { choose } : {}),
        },
        await context(),
      );
      runState.stoppedOnPurpose = true;
      runState.exitWith = result.exitCode;
    },
  );
