import yargs from 'yargs';
import type { Context } from '../core/base/context.js';
import { UsageError, UserError } from '../core/base/errors.js';
import { packageVersion } from '../core/base/assets.js';
import { redact } from '../core/base/redact.js';
import { ENGINES, type EngineName } from '../core/ports/engine.js';
import { withCommands } from './commands/index.js';
import { out, PartlyFailed, runState } from './common/output.js';

export const VERSION = packageVersion();

/** The one place that prints an error and decides the exit code. */
function fail(err: unknown, json: boolean): number {
  const user = err instanceof UserError ? err : undefined;
  const message = redact(user ? user.message : `internal error: ${(err as Error)?.message ?? String(err)}`);
  process.stderr.write(`nfhot: error: ${message}\n`);
  if (user?.hint) process.stderr.write(`  hint: ${redact(user.hint)}\n`);
  if (!user) {
    if (process.env.NFHOT_DEBUG) process.stderr.write(`${redact((err as Error)?.stack ?? '')}\n`);
    else process.stderr.write('  (set NFHOT_DEBUG=1 to see where)\n');
  }
  if (json && !(err instanceof PartlyFailed))
    out(
      JSON.stringify({
        error: message,
        ...(user?.hint ? { hint: redact(user.hint) } : {}),
        ...(user?.detail ? { detail: redact(user.detail) } : {}),
      }),
    );
  return user?.exitCode ?? 1;
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let interrupted = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // The first signal lets the run clean up (remove its container, release its lock); a second one quits now.
    if (interrupted++ > 0) process.exit(signal === 'SIGTERM' ? 143 : 130);
    process.stderr.write(`\nnfhot: ${signal}: stopping and cleaning up…\n`);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const json = argv.includes('--json');
  let ctx: Promise<Context> | undefined;
  let engine: EngineName | undefined;
  const context = () => (ctx ??= import('./context.js').then((m) => m.defaultContext(controller.signal, engine)));
  try {
    const cli = yargs(argv);
    // yargs renders a command's whole help as it starts it, to show it should the command fail;
    // nfhot never shows it then (its errors point to --help), and the rendering holds up the start.
    (cli as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } })
      .getInternalMethods()
      .getUsageInstance().cacheHelpMessage = () => undefined;
    await (await withCommands(cli, argv, context))
      .option('engine', {
        choices: ENGINES,
        global: true,
        describe:
          "the container engine: podman = its API service at CONTAINER_HOST or its socket (default: the service at DOCKER_HOST or Docker's socket, Docker or Podman)",
      })
      .middleware((args) => {
        engine = args.engine;
        // Only watch and shell take a command after --; elsewhere words after -- would be dropped unsaid.
        const after = (args['--'] as unknown[] | undefined) ?? [];
        if (after.length && args._[0] !== 'watch' && args._[0] !== 'shell')
          throw new UsageError(
            `unexpected ${after.map((a) => JSON.stringify(String(a))).join(' ')} after --`,
            'only nfhot watch and nfhot shell take a command after --',
          );
      })
      .scriptName('nfhot')
      .usage("$0 <command> [options]\n\nHot-patch a Python package inside a pipeline's container image.")
      .demandCommand(1, 'name a command')
      .strict()
      // No --no-X negation: --no-deps is an option of its own (negation would read it as --deps=false, unknown in strict mode).
      .parserConfiguration({ 'populate--': true, 'boolean-negation': false })
      .version(VERSION)
      .help()
      .alias('h', 'help')
      .wrap(Math.min(100, process.stdout.columns || 100))
      .exitProcess(false)
      .fail((message, err) => {
        throw err ?? new UsageError(message, 'see nfhot --help, or nfhot <command> --help');
      })
      .parseAsync();
    // A signal that came once there was nothing left to stop: the command completed, but not with 0.
    if (controller.signal.aborted) {
      if (runState.stoppedOnPurpose) return runState.exitWith ?? (controller.signal.reason === 'SIGTERM' ? 143 : 130);
      process.stderr.write(`nfhot: ${String(controller.signal.reason)} came too late to stop: the command completed\n`);
      return controller.signal.reason === 'SIGTERM' ? 143 : 130;
    }
    return runState.exitWith ?? 0;
  } catch (err) {
    return fail(err, json);
  }
}
