import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { formatDiff } from '../common/format.js';
import { jsonOption } from '../common/options.js';
import { out } from '../common/output.js';

/** `nfhot diff`: its arguments, options and help, and the call of commands/diff.ts. */
export const diffCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) => y.positional('image', { type: 'string', demandOption: true }).options(jsonOption),
    async (args) => {
      const { diff } = await import('../../commands/diff.js');
      const result = await diff(args.image, await context());
      out(args.json ? JSON.stringify(result, null, 2) : formatDiff(result));
    },
  );
