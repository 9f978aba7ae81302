import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import type { Context } from '../../core/base/context.js';
import { redact } from '../../core/base/redact.js';
import { jsonOption, pipelineOptions, installOptions, pipelineOf } from '../common/options.js';
import { finish } from '../common/output.js';

/** `nfhot patch`: its arguments, options and help, and the call of commands/patch.ts. */
export const patchCommand = (cli: Argv, context: () => Promise<Context>, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) =>
      y
        .positional('source', {
          type: 'string',
          demandOption: true,
          describe: 'git+URL@REF, a local directory (its working tree as it is now), or NAME@REF',
        })
        .options({
          ...installOptions,
          repo: { type: 'string', describe: 'repository of a NAME@REF source' },
          'add-include': {
            type: 'boolean',
            default: false,
            describe: `add includeConfig 'nfhot.config' to the pipeline's nextflow.config if missing`,
          },
          push: {
            type: 'string',
            describe: 'then push the result to REGISTRY[/PREFIX] (the include pins it by digest)',
          },
          singularity: {
            type: 'boolean',
            default: false,
            describe:
              "also build its SIF file (singularity or apptainer, from the Docker daemon) into Nextflow's cache directory; the include points Singularity/Apptainer runs at it",
          },
          'dry-run': { type: 'boolean', default: false, describe: 'show what would happen; change nothing' },
          ...pipelineOptions,
          ...jsonOption,
        })
        .example(
          '$0 patch ./pkg',
          'in a pipeline directory: patch its images that have the package, write nfhot.config',
        )
        .example('$0 patch git+https://github.com/org/pkg.git@fix --image org/tool:dev', '')
        .example('$0 patch ./pkg --image org/tool:dev', 'the working tree, uncommitted edits included')
        .example('$0 patch pkg@fix --image org/tool:dev', 'repository from the package metadata in the image'),
    async (args) => {
      const { patch } = await import('../../commands/patch.js');
      const result = await patch(
        {
          source: args.source,
          images: args.image,
          repo: args.repo,
          python: args.python,
          noDeps: args['no-deps'],
          dryRun: args['dry-run'],
          keepTag: args['keep-tag'],
          addInclude: args['add-include'],
          ...pipelineOf(args),
          ...(args.push !== undefined ? { push: args.push } : {}),
          singularity: args.singularity,
        },
        await context(),
      );
      finish(args.json, result, (r) => {
        for (const i of r.images)
          process.stderr.write(
            redact(`nfhot: ${i.image} → ${i.derivative} (${i.action}, ${i.seconds.toFixed(1)} s)\n`),
          );
        return r.images.map((i) => r.pushed?.find((p) => p.image === i.image)?.reference ?? i.derivative).join('\n');
      });
    },
  );
