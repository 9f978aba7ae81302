import { describe, expect, it } from 'vitest';
import {
  answeredWithLayer,
  installCommand,
  installedBy,
  NeedsNetwork,
  type Install,
} from '../../../src/core/patch/install-job.js';
import { planPatch, type Target } from '../../../src/core/patch/plan.js';
import type { ImageInfo } from '../../../src/core/ports/engine.js';
import type { Interpreter } from '../../../src/core/interpreter/python.js';
import { parseImageRef } from '../../../src/core/image/reference.js';
import type { ResolvedSource } from '../../../src/core/source/source.js';

const install = (python = '/opt/venv/bin/python3'): Install => ({
  tree: { tree: 't'.repeat(40) },
  directUrl: { url: 'file:///r' } as never,
  python,
  noDeps: false,
});

describe("install.py's answer", () => {
  const layerLine = JSON.stringify({
    layer: [],
    installed: [{ name: 'greet', version: '1.1.0', source: 0 }],
    learned: null,
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

  it('gives the layer it wrote, each file decoded with its mode, owner and time; or why pip ran; or that pip needs the network', () => {
    const i = install();
    const entries = [
      { kind: 'dir', path: '/opt/venv/lib', stat: [0o755, 1000, 100, 5] },
      { kind: 'whiteout', path: '/opt/venv/lib/greet-1.0.0.dist-info' },
      {
        kind: 'file',
        path: '/opt/venv/lib/greet/__init__.py',
        stat: [0o644, 1000, 100, 7],
        data: Buffer.from('X = 1\n').toString('base64'),
      },
    ];
    const answer = installedBy(
      `${JSON.stringify({ layer: entries, installed: [{ name: 'greet', version: '1.1.0', source: 0 }], learned: null })}\n`,
      [i],
    );
    expect(answer.found.get(i)).toEqual({ name: 'greet', version: '1.1.0' });
    expect(answer.layer).toEqual([
      { kind: 'dir', path: '/opt/venv/lib', mode: 0o755, uid: 1000, gid: 100, mtime: 5 },
      { kind: 'whiteout', path: '/opt/venv/lib/greet-1.0.0.dist-info' },
      {
        kind: 'file',
        path: '/opt/venv/lib/greet/__init__.py',
        content: Buffer.from('X = 1\n'),
        mode: 0o644,
        uid: 1000,
        gid: 100,
        mtime: 7,
      },
    ]);
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
      .map((j) => JSON.parse(j) as { receive: boolean; last: boolean; layer: boolean });

  it('asks for a layer when told to; the first interpreter reads the input, the last removes it', () => {
    expect(jobs(installCommand([install()], plan, {}, true))).toEqual([
      expect.objectContaining({ receive: true, last: true, layer: true }),
    ]);
    expect(jobs(installCommand([install(), install('/usr/bin/python3')], plan, {}, false))).toEqual([
      expect.objectContaining({ receive: true, last: false, layer: false }),
      expect.objectContaining({ receive: false, last: true, layer: false }),
    ]);
  });
});
