import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { redact } from '../../core/base/redact.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../core/loop/export.js';
import { jsonOption } from '../common/options.js';
import { out } from '../common/output.js';

/** `nfhot export`: its arguments, options and help, and the call of commands/export.ts. */
export const exportCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) =>
      y
        .positional('image', { type: 'string', demandOption: true })
        .options({
          format: { choices: EXPORT_FORMATS, default: 'dockerfile' as ExportFormat, describe: 'what to print' },
          sdist: {
            type: 'string',
            describe:
              'write a working copy with no published commit as an sdist into DIR, with the Dockerfile (or file) beside it',
          },
          ...jsonOption,
        })
        .example('$0 export quay.io/org/tool:dev > Dockerfile', '')
        .example('$0 export quay.io/org/tool:dev --format conda', 'the environment.yml pip: entry'),
    async (args) => {
      const { exportPatch } = await import('../../commands/export.js');
      const result = await exportPatch(
        { image: args.image, format: args.format, ...(args.sdist !== undefined ? { sdist: args.sdist } : {}) },
        await context(),
      );
      for (const file of result.written) process.stderr.write(redact(`nfhot: wrote ${file}\n`));
      out(args.json ? JSON.stringify(result, null, 2) : result.text.replace(/\n$/, ''));
    },
  );
