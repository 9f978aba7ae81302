import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { jsonOption, pipelineOptions, pipelineOf } from '../common/options.js';
import { finish } from '../common/output.js';

/** `nfhot push`: its arguments, options and help, and the call of commands/push.ts. */
export const pushCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) =>
      y.positional('images', { type: 'string', array: true, default: [] as string[] }).options({
        to: { type: 'string', demandOption: true, describe: 'REGISTRY[/PREFIX], e.g. registry.example.org/team' },
        ...pipelineOptions,
        ...jsonOption,
      }),
    async (args) => {
      const { push } = await import('../../commands/push.js');
      const result = await push(
        {
          images: args.images,
          to: args.to,
          ...pipelineOf(args),
        },
        await context(),
      );
      finish(args.json, result, (r) => r.images.map((i) => i.reference).join('\n'));
    },
  );
