import { describe, expect, it } from 'vitest';
import type { Engine, ImageInfo, RunOptions, RunResult } from '../../../src/core/ports/engine.js';
import { probeImage } from '../../../src/core/interpreter/probe.js';

const ENV = {
  path: '/opt/conda/bin/python3',
  how: 'PATH',
  executable: '/opt/conda/bin/python3',
  prefix: '/opt/conda',
  version: '3.11.2',
  venv: false,
  pip: null,
  pipWheel: null,
  externallyManaged: false,
  dist: null,
};

/** An engine whose runs answer with `answer(options)`, recording each run's options. */
function engine(answer: (options: RunOptions) => RunResult): Engine & { runs: RunOptions[] } {
  const runs: RunOptions[] = [];
  return {
    runs,
    run: async (_image: string, _argv: string[], options: RunOptions) => {
      runs.push(options);
      return answer(options);
    },
  } as unknown as Engine & { runs: RunOptions[] };
}

const image = (n: number, entrypoint: string[] | null): ImageInfo => ({
  id: `sha256:${String(n).repeat(64)}`,
  repoTags: [],
  repoDigests: [],
  config: { Entrypoint: entrypoint, User: 'mambauser' },
  labels: {},
  layers: 1,
  size: 1,
});

describe('probeImage', () => {
  it("runs through the image's entrypoint, as its user, when it has one", async () => {
    const e = engine(() => ({ exitCode: 0, stdout: `activating\n${JSON.stringify(ENV)}\n`, stderr: '' }));
    expect(
      (await probeImage(e, image(1, ['/usr/local/bin/_entrypoint.sh']), 'img', 'greet', undefined)).map((x) => x.path),
    ).toEqual(['/opt/conda/bin/python3']);
    expect(e.runs).toEqual([expect.objectContaining({ entrypoint: true, timeoutMs: expect.any(Number) })]);
    expect(e.runs[0]!.user).toBeUndefined();
  });

  it('probes again as root without the entrypoint when that one does not run the probe', async () => {
    const e = engine((o) =>
      o.entrypoint
        ? { exitCode: 0, stdout: 'usage: greet\n', stderr: '' }
        : { exitCode: 0, stdout: `${JSON.stringify(ENV)}\n`, stderr: '' },
    );
    expect(await probeImage(e, image(2, ['greet']), 'img', 'greet', undefined)).toHaveLength(1);
    expect(e.runs.map((r) => [r.entrypoint, r.user])).toEqual([
      [true, undefined],
      [undefined, '0'],
    ]);
  });

  it('runs as root without an entrypoint, and remembers the answer for the image', async () => {
    const e = engine(() => ({ exitCode: 0, stdout: `${JSON.stringify(ENV)}\n`, stderr: '' }));
    await probeImage(e, image(3, null), 'img', 'greet', undefined);
    await probeImage(e, image(3, null), 'img', 'greet', undefined);
    expect(e.runs.map((r) => [r.entrypoint, r.user])).toEqual([[undefined, '0']]);
  });
});
