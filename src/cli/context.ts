import type { Context } from '../core/base/context.js';
import type { EngineName } from '../core/ports/engine.js';
import { stderrReporter } from '../core/base/report.js';

/** The composition root: the real adapters behind the core's ports. */
export async function defaultContext(signal: AbortSignal, engine?: EngineName): Promise<Context> {
  const [{ connect }, { ExecaGit }, { execaPrograms }] = await Promise.all([
    import('../adapters/docker/connect.js'),
    import('../adapters/git.js'),
    import('../adapters/programs.js'),
  ]);
  return {
    engine: await connect(engine, execaPrograms),
    git: new ExecaGit(),
    programs: execaPrograms,
    report: stderrReporter(),
    signal,
  };
}
