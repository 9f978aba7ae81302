// A pure-Python wheel is the same whoever builds it: when no interpreter of the image has a
// source's build backend (a conda-forge or pixi environment often has no setuptools, and offline
// pip cannot fetch one), this machine's python3 builds it, with nfhot.pyz's build as the image would.
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { zipappPath } from '../base/assets.js';
import type { Context } from '../base/context.js';
import { hostPython } from '../interpreter/host-python.js';
import type { TreeRef } from '../ports/git.js';

export type HostBuild =
  | { wheel: { name: string; content: Buffer }; python: string; version?: string; how?: string }
  | { why: string; python?: string; missing?: string[] };

/** A wheel any Python 3 takes, the same whoever built it. */
const PURE = /-(py3|py2\.py3)-none-any\.whl$/;

/** Builds the tree's wheel with this machine's python3, handing it the version git gives it; a pure wheel, or why not. */
export async function buildOnHost(ctx: Context, tree: TreeRef, facts: object | undefined): Promise<HostBuild> {
  const python = await hostPython(ctx.programs);
  if (!python) return { why: 'this machine has no python3', missing: [] };
  const dir = await mkdtemp(join(tmpdir(), 'nfhot-build-'));
  try {
    const [src, out] = [join(dir, 'src'), join(dir, 'out')];
    await mkdir(src);
    await ctx.git.extract(tree, src);
    const args = [zipappPath(), 'build', src, out, facts ? JSON.stringify(facts) : ''];
    const result = await ctx.programs.run(python, args, { cwd: dir });
    let answer: { wheel?: string; missing?: string[]; failed?: string; version?: string; how?: string } = {};
    try {
      answer = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}');
    } catch {
      return { why: `${python} could not run nfhot's build (exit ${result.exitCode})` };
    }
    if (answer.missing) return { why: `${python} lacks ${answer.missing.join(', ')}`, python, missing: answer.missing };
    if (!answer.wheel) return { why: `${python} could not build it: ${answer.failed ?? 'no wheel'}` };
    if (!PURE.test(answer.wheel))
      return {
        why: `${python} built ${basename(answer.wheel)}, which is for this machine's Python, not any (a compiled extension)`,
      };
    return {
      wheel: { name: basename(answer.wheel), content: await readFile(answer.wheel) },
      python,
      ...(answer.version ? { version: answer.version, how: answer.how ?? '' } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
