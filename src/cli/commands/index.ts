import type { Argv } from 'yargs';
import type { Context } from '../../core/base/context.js';
import type { AddCommand, Summary } from '../common/command.js';

/**
 * The commands, in the order --help lists them. Each file of this directory is loaded only when
 * its command runs (or asks for its --help): start-up is part of every call.
 */
export const COMMANDS: readonly (readonly [...Summary, () => Promise<AddCommand>])[] = [
  [
    'patch <source>',
    'install a Python package source into images and tag the result under the same tag and an immutable reference',
    async () => (await import('./patch.js')).patchCommand,
  ],
  [
    'watch <dir>',
    'patch a working copy into its images, then again on every change (hot reload); run a command after each patch',
    async () => (await import('./watch.js')).watchCommand,
  ],
  [
    'rollback [images..]',
    'point each tag at its exact original image again',
    async () => (await import('./rollback.js')).rollbackCommand,
  ],
  [
    'push [images..]',
    'push the patched images (default: all) to a registry, for executors on other machines; the include then pins them by digest',
    async () => (await import('./push.js')).pushCommand,
  ],
  [
    'status',
    'list patched images, their original and active patches, read from the daemon',
    async () => (await import('./status.js')).statusCommand,
  ],
  [
    'config',
    "show the pipeline's processes and the image each runs under Docker, and rewrite nfhot.config from what is patched",
    async () => (await import('./config.js')).configCommand,
  ],
  [
    'rerun <dir>',
    'run a task of the pipeline again, from its work directory, with the image as nfhot has it patched now',
    async () => (await import('./rerun.js')).rerunCommand,
  ],
  [
    'shell [image]',
    'an interactive shell (or -- COMMAND) in the patched image, the current directory mounted, as a task sees it',
    async () => (await import('./shell.js')).shellCommand,
  ],
  [
    'diff <image>',
    'what the patch changed against the original: packages (version before → after, source) and files',
    async () => (await import('./diff.js')).diffCommand,
  ],
  [
    'export <image>',
    'what to put in the real image build to make the patch permanent: Dockerfile lines, environment.yml or requirements',
    async () => (await import('./export.js')).exportCommand,
  ],
  [
    'shim',
    "print the line that puts nfhot's docker shim first on PATH, for runners other than Nextflow",
    async () => (await import('./shim.js')).shimCommand,
  ],
  [
    'plugin <action>',
    "install, remove or check nf-hot, nfhot's Nextflow plugin: nextflow run … -plugins nf-hot@VERSION gives every task its patch at run time, with no include",
    async () => (await import('./plugin.js')).pluginCommand,
  ],
  [
    'resolve <image>',
    'print the reference a runner should use for IMAGE: its immutable derivative when patched, else IMAGE',
    async () => (await import('./resolve.js')).resolveCommand,
  ],
];

/**
 * The CLI with every command: the one named in `argv` (any word of it that names one: a command
 * loaded needlessly costs little, one not loaded would do nothing) with its options and function,
 * the others by their summary alone (for --help).
 */
export async function withCommands(cli: Argv, argv: readonly string[], context: () => Promise<Context>): Promise<Argv> {
  const words = new Set(argv);
  const added = await Promise.all(
    COMMANDS.map(([usage, , load]) => (words.has(usage.split(' ')[0]!) ? load() : undefined)),
  );
  return COMMANDS.reduce(
    (c, [usage, describe], i) => added[i]?.(c, context, [usage, describe]) ?? c.command(usage, describe),
    cli,
  );
}
