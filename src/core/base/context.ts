import type { Engine } from '../ports/engine.js';
import type { Git } from '../ports/git.js';
import type { Programs } from '../ports/programs.js';
import type { Reporter } from './report.js';

/** What the core works with: its ports, a reporter and the run's signal. Tests build their own; the CLI wires the real one. */
export interface Context {
  engine: Engine;
  git: Git;
  programs: Programs;
  report: Reporter;
  /** Aborted on SIGINT/SIGTERM with the signal's name as reason. */
  signal: AbortSignal;
}
