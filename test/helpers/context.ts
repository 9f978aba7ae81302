import Docker from 'dockerode';
import type { Context } from '../../src/core/base/context.js';
import { DockerodeEngine } from '../../src/adapters/docker/dockerode.js';
import { PodmanEngine } from '../../src/adapters/docker/podman.js';
import { ExecaGit } from '../../src/adapters/git.js';
import { execaPrograms } from '../../src/adapters/programs.js';
import { stderrReporter } from '../../src/core/base/report.js';

/** The real engine and git, with what the run reports collected in `lines`. The engine is Podman's in the podman project. */
export function testContext(signal: AbortSignal = new AbortController().signal): Context & { lines: string[] } {
  const lines: string[] = [];
  const engine =
    process.env.NFHOT_TEST_ENGINE === 'podman'
      ? new PodmanEngine(new Docker(), execaPrograms, process.env.DOCKER_HOST!)
      : new DockerodeEngine(new Docker(), execaPrograms);
  return {
    engine,
    git: new ExecaGit(),
    programs: execaPrograms,
    report: stderrReporter((t) => void lines.push(t)),
    signal,
    lines,
  };
}
