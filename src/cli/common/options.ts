// The options several commands share, and what their values give the commands.
import type { RunOptions } from '../../core/pipeline/syntax.js';

/** `--json` on every command that prints a result. */
export const jsonOption = {
  json: { type: 'boolean', default: false, describe: 'print one JSON document on stdout' },
} as const;
export const pipelineOptions = {
  pipeline: {
    type: 'string',
    describe:
      'the pipeline directory whose nfhot.config to keep (default: the current directory when it has main.nf or nextflow.config)',
  },
  profile: {
    type: 'string',
    describe:
      'config profile(s) to read the pipeline with, comma-separated, as for nextflow run -profile (default: docker, when defined)',
  },
  include: {
    type: 'string',
    describe:
      "where to write the pipeline's include (default: nfhot.config in the pipeline); for a pipeline whose files you leave as they are: nextflow run … -c FILE",
  },
  syntax: {
    type: 'string',
    choices: ['v1', 'v2'],
    describe:
      'the parser the run reads the pipeline with (default: NXF_SYNTAX_PARSER, else the default of the nextflow on PATH: v2, the strict one, from 26.04)',
  },
  'params-file': {
    type: 'string',
    describe: "the run's -params-file (YAML or JSON): the pipeline is read with its params",
  },
  param: {
    type: 'string',
    array: true,
    describe:
      'a param the run gets on its command line, as NAME=VALUE (repeatable): --param aligner=hisat2 for nextflow run … --aligner hisat2',
  },
  config: {
    alias: 'c',
    type: 'string',
    array: true,
    describe:
      "a config file the run gets with -c (repeatable; a site's config: its executor, registry, profiles), read after nextflow.config",
  },
} as const;
/** The run the pipeline is read for (pipelineOptions' --syntax, --params-file, --param, -c). */
export const runOf = (args: {
  syntax?: string | undefined;
  'params-file'?: string | undefined;
  param?: string[] | undefined;
  config?: string[] | undefined;
}): RunOptions => ({
  ...(args.syntax !== undefined ? { syntax: args.syntax } : {}),
  ...(args['params-file'] !== undefined ? { paramsFile: args['params-file'] } : {}),
  ...(args.param?.length ? { params: args.param } : {}),
  ...(args.config?.length ? { configs: args.config } : {}),
});
/** Which images, and how the package goes in: patch's and watch's. */
export const installOptions = {
  image: {
    type: 'string',
    array: true,
    default: [] as string[],
    describe: 'image to patch (repeatable; default: the images of the pipeline that have the package)',
  },
  python: { type: 'string', describe: 'interpreter inside the image to install with' },
  'no-deps': { type: 'boolean', default: false, describe: 'install the package alone, not its dependencies' },
  'keep-tag': {
    type: 'boolean',
    default: false,
    describe:
      "leave the image's own tag on the original: only the immutable reference, the include and the docker shim run the patch",
  },
} as const;
/** The pipeline as pipelineOptions name it: its directory, profiles, nfhot's include and the run it is read for. */
export const pipelineOf = (
  args: Parameters<typeof runOf>[0] & {
    pipeline?: string | undefined;
    profile?: string | undefined;
    include?: string | undefined;
  },
) => ({
  pipeline: args.pipeline,
  profiles: profilesOf(args.profile),
  run: runOf(args),
  ...(args.include !== undefined ? { include: args.include } : {}),
});
export const profilesOf = (profile: string | undefined) =>
  profile === undefined
    ? undefined
    : profile
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
