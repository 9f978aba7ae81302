import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { formatRollback } from '../common/format.js';
import { jsonOption, pipelineOptions, pipelineOf } from '../common/options.js';
import { finish } from '../common/output.js';

/** `nfhot rollback`: its arguments, options and help, and the call of commands/rollback.ts. */
export const rollbackCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) =>
      y.positional('images', { type: 'string', array: true, default: [] as string[] }).options({
        all: { type: 'boolean', default: false, describe: 'every patched image' },
        force: {
          type: 'boolean',
          default: false,
          describe: 'roll back even when the tag was re-pointed since the patch',
        },
        ...pipelineOptions,
        ...jsonOption,
      }),
    async (args) => {
      const { rollback } = await import('../../commands/rollback.js');
      const result = await rollback(
        {
          images: args.images,
          all: args.all,
          force: args.force,
          ...pipelineOf(args),
        },
        await context(),
      );
      finish(args.json, result, (r) => formatRollback(r.images));
    },
  );
