import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Context } from '../../../src/core/base/context.js';
import { ContainerGoneError } from '../../../src/core/base/errors.js';
import { applyPatch } from '../../../src/core/patch/apply.js';
import { planPatch, type Target } from '../../../src/core/patch/plan.js';
import type { Engine, ImageInfo, WorkContainer } from '../../../src/core/ports/engine.js';
import type { Git } from '../../../src/core/ports/git.js';
import type { Interpreter } from '../../../src/core/interpreter/python.js';
import { keeperRef, parseImageRef } from '../../../src/core/image/reference.js';
import { stderrReporter } from '../../../src/core/base/report.js';
import type { ResolvedSource } from '../../../src/core/source/source.js';

const ORIGINAL = `sha256:${'0'.repeat(64)}`;
const COMMITTED = `sha256:${'c'.repeat(64)}`;
const original: ImageInfo = {
  id: ORIGINAL,
  repoTags: ['org/tool:dev'],
  repoDigests: [],
  config: { Cmd: ['tool'] },
  labels: {},
  layers: 3,
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

/**
 * A daemon whose work containers are removed from under nfhot (as by a prune) `prunes` times,
 * as they are about to run; then they work, and pip reports greet 1.1.0 installed.
 */
function world(prunes: number) {
  const tags = new Map<string, string>([['org/tool:dev', ORIGINAL]]);
  const markers = new Set<string>();
  let made = 0;
  const container = (): WorkContainer => {
    const gone = made++ < prunes;
    return {
      id: `work${made}`,
      run: async (input) => {
        for (const a of input.archives) a.resume();
        if (gone) throw new ContainerGoneError(`the work container work${made}`);
        return { exitCode: 0, stdout: '{"installed":[{"name":"greet","version":"1.1.0","source":0}]}\n', stderr: '' };
      },
      commit: async () => COMMITTED,
      addLayer: () => Promise.reject(new Error('unused')),
      kill: async () => undefined,
      remove: async () => undefined,
    };
  };
  const engine: Engine = {
    address: 'unix:///fake.sock',
    kind: 'docker',
    cli: 'docker',
    ping: async () => undefined,
    inspectImage: async (ref) => (tags.get(ref) === ORIGINAL ? original : undefined),
    listImages: async () => [],
    tag: async (id, ref) => void tags.set(ref, id),
    untag: async (ref) => void tags.delete(ref),
    push: () => Promise.reject(new Error('unused')),
    run: () => Promise.reject(new Error('unused')),
    createWorkContainer: async () => container(),
    addsLayers: false,
    addLayer: () => Promise.reject(new Error('unused')),
    createMarker: async (name) => {
      if (markers.has(name)) return undefined;
      markers.add(name);
      return name;
    },
    listContainers: async () => [],
    removeContainer: async (name) => void markers.delete(name),
  };
  const git = { archive: () => ({ stream: Readable.from(['tar']), done: Promise.resolve() }) } as unknown as Git;
  const lines: string[] = [];
  const ctx: Context = {
    engine,
    git,
    programs: undefined as never,
    report: stderrReporter((l) => void lines.push(l)),
    signal: new AbortController().signal,
  };
  return { ctx, tags, lines, made: () => made, markers };
}

describe('applyPatch, when a prune takes the work container', () => {
  const plan = planPatch(target, source, interpreter, { noDeps: false, keepTag: false });

  it('says so and starts again in a new container, once', async () => {
    const w = world(1);
    const { patches } = await applyPatch(w.ctx, plan, source, '2026-11-30T00:00:00Z');
    expect(patches.map((p) => [p.package, p.version])).toEqual([['greet', '1.1.0']]);
    expect(w.made()).toBe(2);
    expect(w.lines.join('')).toContain(
      'nfhot: warning: org/tool:dev: the work container work1 was removed while nfhot was using it (a docker container prune or system prune?); starting again in a new one',
    );
    expect(Object.fromEntries(w.tags)).toEqual({
      'org/tool:dev': COMMITTED,
      [plan.derivative]: COMMITTED,
      [keeperRef(target.ref)]: ORIGINAL,
    });
    expect(w.markers.size).toBe(0); // the lock is released
  });

  it('fails, tagging nothing, when it is taken twice', async () => {
    const w = world(2);
    await expect(applyPatch(w.ctx, plan, source, '2026-11-30T00:00:00Z')).rejects.toThrow(
      /^org\/tool:dev: nfhot's work container was removed twice while the patch was under way \(a docker container prune or system prune\?\); nothing was tagged$/,
    );
    expect(Object.fromEntries(w.tags)).toEqual({ 'org/tool:dev': ORIGINAL });
    expect(w.markers.size).toBe(0);
  });
});
