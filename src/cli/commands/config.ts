import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { formatIncludes, formatModel } from '../common/format.js';
import { jsonOption, pipelineOptions, pipelineOf } from '../common/options.js';
import { out } from '../common/output.js';
import { PartlyFailed } from '../common/output.js';

/** `nfhot config`: its arguments, options and help, and the call of commands/config.ts. */
export const configCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) =>
      y.options({
        check: {
          type: 'boolean',
          default: false,
          describe:
            'the preflight: exit 1 when a patched process would not get its patch in a run with these profiles; and compare with what `nextflow inspect` reports (when nextflow is on PATH)',
        },
        'add-include': {
          type: 'boolean',
          default: false,
          describe: `add includeConfig 'nfhot.config' to nextflow.config if missing`,
        },
        'dry-run': { type: 'boolean', default: false, describe: 'do not write nfhot.config' },
        list: {
          type: 'boolean',
          default: false,
          describe:
            'list the includes nfhot keeps (every pipeline whose nfhot.config it wrote), and what each points at',
        },
        ...pipelineOptions,
        ...jsonOption,
      }),
    async (args) => {
      const { config, listIncludes } = await import('../../commands/config.js');
      if (args.list) {
        const includes = await listIncludes();
        return out(args.json ? JSON.stringify({ includes }, null, 2) : formatIncludes(includes));
      }
      const result = await config(
        {
          ...pipelineOf(args),
          check: args.check,
          addInclude: args['add-include'],
          dryRun: args['dry-run'],
        },
        await context(),
      );
      out(args.json ? JSON.stringify(result, null, 2) : formatModel(result.model, result.include));
      const missed = result.include.verdicts.filter((v) => !v.uses);
      if (args.check && missed.length)
        throw new PartlyFailed(
          `${missed.length} patched process(es) would not get their patch in a run with ${result.model.profiles.length ? `-profile ${result.model.profiles.join(',')}` : 'no profile'}: ${missed.map((v) => v.process).join(', ')}`,
        );
    },
  );
