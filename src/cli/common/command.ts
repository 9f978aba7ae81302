import type { Argv } from 'yargs';
import type { Context } from '../../core/base/context.js';

/** A command's usage and the line --help gives it. */
export type Summary = readonly [usage: string, describe: string];
/** Adds a command (its options, its help, the call of its function in src/commands) to the CLI. */
export type AddCommand = (cli: Argv, context: () => Promise<Context>, summary: Summary) => Argv;
