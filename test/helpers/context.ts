import Docker from 'dockerode';
import type { Context } from '../../src/context.js';
import { DockerodeEngine } from '../../src/docker/dockerode.js';
import { PodmanEngine } from '../../src/docker/podman.js';
import { ExecaGit } from '../../src/git/execa.js';
import { stderrReporter } from '../../src/core/report.js';

/** The real engine and git, with what the run reports collected in `lines`. The engine is Podman's in the podman project. */
export function testContext(signal: AbortSignal = new AbortController().signal): Context & { lines: string[] } {
  const lines: string[] = [];
  const engine = process.env.NFHOT_TEST_ENGINE === 'podman' ? new PodmanEngine(new Docker(), process.env.DOCKER_HOST!) : new DockerodeEngine();
  return { engine, git: new ExecaGit(), report: stderrReporter((t) => void lines.push(t)), signal, lines };
}
