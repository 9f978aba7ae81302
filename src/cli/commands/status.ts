import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { formatStatus } from '../common/format.js';
import { jsonOption } from '../common/options.js';
import { out } from '../common/output.js';

/** `nfhot status`: its arguments, options and help, and the call of commands/status.ts. */
export const statusCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) => y.options(jsonOption),
    async (args) => {
      const { status } = await import('../../commands/status.js');
      const result = await status(await context());
      if (args.json) return out(JSON.stringify(result, null, 2));
      if (result.images.length === 0) return void process.stderr.write('nfhot: no patched images\n');
      out(formatStatus(result.images));
    },
  );
