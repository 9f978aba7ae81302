import type { Engine, EngineName } from './docker/engine.js';
import type { Git } from './git/git.js';
import { stderrReporter, type Reporter } from './core/report.js';

/** What every command works with. Tests build their own; the CLI builds the real one. */
export interface Context {
  engine: Engine;
  git: Git;
  report: Reporter;
  /** Aborted on SIGINT/SIGTERM with the signal's name as reason. */
  signal: AbortSignal;
}

export async function defaultContext(signal: AbortSignal, engine?: EngineName): Promise<Context> {
  const [{ connect }, { ExecaGit }] = await Promise.all([import('./docker/connect.js'), import('./git/execa.js')]);
  return { engine: await connect(engine), git: new ExecaGit(), report: stderrReporter(), signal };
}
