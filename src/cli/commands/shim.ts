import type { Argv } from 'yargs';
import type { Summary } from '../common/command.js';
import { packagePath } from '../../core/base/assets.js';
import { out } from '../common/output.js';

/** `nfhot shim`: its arguments, options and help, and the call of commands/shim.ts. */
export const shimCommand = (cli: Argv, _context: unknown, [usage, describe]: Summary): Argv =>
  cli.command(
    usage,
    describe,
    (y) => y,
    () => out(`export PATH="${packagePath('shims')}:$PATH"`),
  );
