import type { Argv } from 'yargs';
import { packagePath } from '../../core/base/assets.js';
import { out } from '../common/output.js';

/** `nfhot shim`: its arguments, options and help, and the call of commands/shim.ts. */
export const shimCommand = (cli: Argv): Argv =>
  cli.command(
    'shim',
    "print the line that puts nfhot's docker shim first on PATH, for runners other than Nextflow",
    (y) => y,
    () => out(`export PATH="${packagePath('shims')}:$PATH"`),
  );
