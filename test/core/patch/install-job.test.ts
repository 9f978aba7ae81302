import { describe, expect, it } from 'vitest';
import {
  answeredWithLayer,
  installCommand,
  installedBy,
  jobFiles,
  LAYER_TAR,
  NeedsNetwork,
  workMemory,
  type Install,
} from '../../../src/core/patch/install-job.js';
import { type PatchPlan, planPatch, type Target } from '../../../src/core/patch/plan.js';
import type { ImageInfo } from '../../../src/core/ports/engine.js';
import type { Interpreter } from '../../../src/core/interpreter/python.js';
import { parseImageRef } from '../../../src/core/image/reference.js';
import type { ResolvedSource } from '../../../src/core/source/source.js';
import { breaksInstallSchema } from '../../helpers/schema.js';

const install = (python = '/opt/venv/bin/python3'): Install => ({
  tree: { tree: 't'.repeat(40) },
  directUrl: { url: 'file:///r' } as never,
  python,
  noDeps: false,
});

describe("the install's answer", () => {
  const LAYER = { tar: '/nfhot-work.layer.tar', size: 10240, diffId: `sha256:${'a'.repeat(64)}`, files: 3 };
  const layerLine = JSON.stringify({
    layer: LAYER,
    installed: [{ name: 'greet', version: '1.1.0', source: 0 }],
    learned: null,
  });

  it("reads install.schema.json's answers, each kind", () => {
    const answers = [
      JSON.parse(layerLine),
      { installed: [{ name: 'natsort', version: '8.4.0', source: null }], learned: null, pip: null },
      { needs: [{ source: 0, missing: ['hatchling'], backend: 'hatchling.build' }], searched: ['/usr/bin/python3'] },
      { network: 'it requires natsort>=8, which the environment lacks' },
    ];
    for (const answer of answers) expect(breaksInstallSchema('Answer', answer)).toEqual([]);
    const read = answers.map((a) => {
      try {
        return installedBy(`${JSON.stringify(a)}\n`, [install()]);
      } catch (e) {
        return (e as Error).constructor.name;
      }
    });
    expect(read.slice(2)).toEqual(['NeedsBackend', 'NeedsNetwork']);
    expect(breaksInstallSchema('Answer', { installed: [], learned: null })).toEqual(['Answer: fits 0 of oneOf']);
  });

  it('is whole once its last line is a layer, ended', () => {
    const stdout = `noise from a build\n${layerLine}\n`;
    expect(answeredWithLayer('}\n', () => stdout)).toBe(true);
    expect(answeredWithLayer(layerLine.slice(-10), () => stdout.slice(0, -1))).toBe(false); // not ended yet
    expect(answeredWithLayer('}\n', () => `${JSON.stringify({ installed: [], learned: null, pip: 'why' })}\n`)).toBe(
      false,
    ); // pip's answer: the run goes to its end
    expect(answeredWithLayer('}\n', () => `${layerLine}\n{"installed": []}\n`)).toBe(false);
  });

  it('gives the layer it wrote in the container (where, its size and digest); or why pip ran; or that pip needs the network', () => {
    const i = install();
    const answer = installedBy(
      `${JSON.stringify({ layer: LAYER, installed: [{ name: 'greet', version: '1.1.0', source: 0 }], learned: null })}\n`,
      [i],
    );
    expect(answer.found.get(i)).toEqual({ name: 'greet', version: '1.1.0' });
    expect(answer.layer).toEqual(LAYER);
    const piped = installedBy(
      `${JSON.stringify({ installed: [{ name: 'greet', version: '1.1.0', source: 0 }], learned: null, pip: 'the installed greet is an editable install' })}\n`,
      [i],
    );
    expect(piped.layer).toBeUndefined();
    expect(piped.pip).toBe('the installed greet is an editable install');
    expect(() =>
      installedBy(`${JSON.stringify({ network: 'it requires natsort>=8, which the environment lacks' })}\n`, [i]),
    ).toThrow(NeedsNetwork);
  });
});

describe('the work container command', () => {
  const original: ImageInfo = {
    id: `sha256:${'0'.repeat(64)}`,
    repoTags: [],
    repoDigests: [],
    config: {},
    labels: {},
    layers: 1,
    size: 1,
  };
  const target: Target = { ref: parseImageRef('org/tool:dev'), current: original, original, activePatches: [] };
  const interpreter: Interpreter = {
    env: {
      path: '/opt/venv/bin/python3',
      executable: '/opt/venv/bin/python3',
      prefix: '/opt/venv',
      version: '3.11.2',
      venv: true,
      pip: '23',
      externallyManaged: false,
      tmp: true,
      dist: null,
    },
    reason: 'test',
  };
  const source: ResolvedSource = {
    kind: 'git',
    display: 'git+file:///r@x',
    url: 'file:///r',
    displayUrl: 'file:///r',
    ref: 'x',
    commit: 'a'.repeat(40),
    tree: { tree: 't'.repeat(40) },
    package: 'greet',
  };
  const plan = planPatch(target, source, interpreter, { noDeps: false, keepTag: false });
  const jobs = (argv: string[]) =>
    argv
      .slice(5)
      .filter((_, n) => n % 2 === 1)
      .map((j) => JSON.parse(j) as { root: string; receive: boolean; last: boolean; layer: string | null });

  it("writes jobs that are install.schema.json's Job, whatever the plan", () => {
    const versioned: Install = {
      ...install(),
      name: 'greet',
      learn: true,
      version: {
        tool: 'setuptools_scm',
        commit: 'a'.repeat(40),
        short: 'aaaaaaa',
        dirty: false,
        distance: 3,
        date: '2026-12-01T00:00:00Z',
        shallow: false,
      },
    };
    const many = planPatch(target, source, interpreter, {
      noDeps: true,
      keepTag: false,
      pythons: ['/opt/venv/bin/python3', '/usr/bin/python3'],
      pipWheel: { path: '/host/pip-24.0-py3-none-any.whl', fromHost: true },
    });
    const commands = [
      installCommand([install()], plan, {}, true),
      installCommand([versioned], plan, {}, true),
      installCommand([versioned, install('/usr/bin/python3')], many, { isolated: true }, false),
      installCommand(
        [versioned, install()],
        many,
        { wheels: new Map([[0, { name: 'greet-1.0-py3-none-any.whl', content: Buffer.from('') }]]), network: true },
        false,
      ),
    ];
    const all = commands.flatMap((argv) => argv.slice(5).filter((_, n) => n % 2 === 1));
    expect(all).toHaveLength(5); // one interpreter (twice), two, one with two sources
    for (const job of all) expect(breaksInstallSchema('Job', JSON.parse(job))).toEqual([]);
    // And the check finds what breaks it.
    const job = JSON.parse(all[1]!) as Record<string, unknown>;
    expect(breaksInstallSchema('Job', { ...job, extra: 1, layer: true, sources: [] })).toEqual([
      'Job.sources: 0 items',
      'Job.layer: boolean, not string|null',
      'Job.extra: not in the schema',
    ]);
  });

  it('asks for a layer when told to; the first interpreter reads the input, the last removes it', () => {
    expect(jobs(installCommand([install()], plan, {}, true))).toEqual([
      expect.objectContaining({ receive: true, last: true, layer: LAYER_TAR }),
    ]);
    expect(jobs(installCommand([install(), install('/usr/bin/python3')], plan, {}, false))).toEqual([
      expect.objectContaining({ receive: true, last: false, layer: null }),
      expect.objectContaining({ receive: false, last: true, layer: null }),
    ]);
  });

  it("puts the job's files in the image's /tmp when it is there and empty (mounted in memory), else in a directory of their own", () => {
    const root = (p: PatchPlan) => jobs(installCommand([install()], p, {}, true))[0]!.root;
    expect(root(plan)).toBe('/tmp/nfhot-work');
    expect(root({ ...plan, tmp: false })).toBe('/nfhot-work');
    expect([workMemory(plan), workMemory({ ...plan, tmp: false })]).toEqual(['/tmp', undefined]);
    expect(Object.keys(jobFiles({ ...plan, tmp: false }, {}))).toEqual(['nfhot-work/nfhot.pyz']);
    // The layer stays in the container's own files, where the engine reads it.
    expect(LAYER_TAR.startsWith('/tmp/')).toBe(false);
  });
});
