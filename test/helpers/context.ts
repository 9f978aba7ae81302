import type { Context } from '../../src/context.js';
import { DockerodeEngine } from '../../src/docker/dockerode.js';
import { ExecaGit } from '../../src/git/execa.js';
import { stderrReporter } from '../../src/core/report.js';

/** The real engine and git, with what the run reports collected in `lines`. */
export function testContext(signal: AbortSignal = new AbortController().signal): Context & { lines: string[] } {
  const lines: string[] = [];
  return { engine: new DockerodeEngine(), git: new ExecaGit(), report: stderrReporter((t) => void lines.push(t)), signal, lines };
}
