import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { redact } from '../../core/base/redact.js';
import { formatRerun } from '../common/format.js';
import { jsonOption } from '../common/options.js';
import { out, runState } from '../common/output.js';

/** `nfhot rerun`: its arguments, options and help, and the call of commands/rerun.ts. */
export const rerunCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) =>
      y
        .positional('dir', {
          type: 'string',
          demandOption: true,
          describe: "the task's work directory (work/ab/cdef…)",
        })
        .options({
          image: {
            type: 'string',
            describe: 'run this image (resolved as nfhot resolve does) instead of the one the task ran',
          },
          'in-place': {
            type: 'boolean',
            default: false,
            describe:
              "run in the task's own directory (its outputs and .exitcode are overwritten; a later -resume trusts them) instead of a copy",
          },
          ...jsonOption,
        })
        .example(
          '$0 rerun work/3f/9a1c2e7b5d4f60a8b2c1e0d9f8a7b6',
          "the failed task, with the patch; Nextflow's work dir untouched",
        ),
    async (args) => {
      const { rerun } = await import('../../commands/rerun.js');
      const result = await rerun(
        {
          dir: args.dir,
          ...(args.image !== undefined ? { image: args.image } : {}),
          inPlace: args['in-place'],
          stdout: args.json ? 'stderr' : 'stdout',
        },
        await context(),
      );
      runState.stoppedOnPurpose = true;
      runState.exitWith = result.exitCode;
      process.stderr.write(redact(formatRerun(result)));
      if (args.json) out(JSON.stringify(result, null, 2));
    },
  );
