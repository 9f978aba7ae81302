import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { redact } from '../../core/base/redact.js';
import { formatPlugin } from '../common/format.js';
import { jsonOption } from '../common/options.js';
import { out } from '../common/output.js';

/** `nfhot plugin`: its arguments, options and help, and the call of commands/plugin.ts. */
export const pluginCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) =>
      y
        .positional('action', { choices: ['install', 'uninstall', 'status'] as const, demandOption: true })
        .options({
          'nxf-home': {
            type: 'string',
            describe:
              "Nextflow's home, whose plugins directory to use (default: NXF_PLUGINS_DIR, else $NXF_HOME/plugins, else ~/.nextflow/plugins)",
          },
          ...jsonOption,
        })
        .example('$0 plugin install', 'then: nextflow run PIPELINE -plugins nf-hot@VERSION'),
    async (args) => {
      const { plugin } = await import('../../commands/plugin.js');
      const result = await plugin(args.action, args['nxf-home'], await context());
      if (args.json) out(JSON.stringify(result, null, 2));
      else if (result.action === 'status')
        out(formatPlugin(result).join('\n')); // the answer asked for
      else {
        for (const line of formatPlugin(result)) process.stderr.write(redact(`nfhot: ${line}\n`));
        if (result.action === 'install') out(result.spec); // the -plugins value, last on stdout
      }
    },
  );
