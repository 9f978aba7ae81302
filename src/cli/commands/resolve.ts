import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { jsonOption } from '../common/options.js';
import { out } from '../common/output.js';

/** `nfhot resolve`: its arguments, options and help, and the call of commands/resolve.ts. */
export const resolveCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) => y.positional('image', { type: 'string', demandOption: true }).options(jsonOption),
    async (args) => {
      const { resolve } = await import('../../commands/resolve.js');
      const reference = await resolve(args.image, await context());
      out(args.json ? JSON.stringify({ image: args.image, reference, patched: reference !== args.image }) : reference);
    },
  );
