import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Context } from '../core/base/context.js';
import { UserError } from '../core/base/errors.js';
import { gitRequirement, renderExport, type ExportFormat, type Pin } from '../core/loop/export.js';
import { installedFrom, type PatchRecord } from '../core/image/record.js';
import { parseImageRef } from '../core/image/reference.js';
import { patchSetOf } from '../core/image/state.js';

export interface ExportOptions {
  image: string;
  format: ExportFormat;
  /** Write each working-copy tree that has no published commit as an sdist into this directory (with the Dockerfile or file beside it). */
  sdist?: string;
}

export interface ExportResult {
  image: string;
  format: ExportFormat;
  /** The original the build starts from: pinned by digest when it came from a registry. */
  from: string;
  text: string;
  /** Files written (with --sdist). */
  written: string[];
}

const FILE_NAME: Record<ExportFormat, string> = {
  dockerfile: 'Dockerfile',
  conda: 'environment.yml',
  requirements: 'requirements.txt',
};

/** An sdist's file name: the normalised name with underscores, and the version (as pip and PyPI name them). */
const sdistName = (p: PatchRecord) => `${p.package.replace(/[-_.]+/g, '_')}-${p.version}`;

/**
 * The tree nfhot installed, as an sdist. A version from git is written into its PKG-INFO, as in
 * the sdist of a release: the build finds no .git there.
 */
async function writeSdist(ctx: Context, p: PatchRecord, dir: string): Promise<string> {
  const tree = await ctx.git.available(p.tree, p.path);
  if (!tree)
    throw new UserError(
      `the tree nfhot installed for ${p.package} (${p.tree.slice(0, 12)}) is no longer in nfhot's cache or in ${p.path}`,
      'patch the working copy again, then export',
    );
  const name = sdistName(p);
  const meta = p.vcs ? await mkdtemp(join(tmpdir(), 'nfhot-sdist-')) : undefined;
  try {
    if (meta)
      await writeFile(join(meta, 'PKG-INFO'), `Metadata-Version: 2.1\nName: ${p.package}\nVersion: ${p.version}\n`);
    const { stream, done } = ctx.git.archive(tree, `${name}/`, meta ? [join(meta, 'PKG-INFO')] : []);
    const file = join(dir, `${name}.tar.gz`);
    await Promise.all([pipeline(stream, createGzip(), createWriteStream(file)), done]);
  } finally {
    if (meta) await rm(meta, { recursive: true, force: true });
  }
  return `${name}.tar.gz`;
}

/** How one patch goes into the real build, or a UserError saying why it cannot be pinned and what to do. */
async function pinOf(ctx: Context, p: PatchRecord, sdistDir: string | undefined): Promise<Pin> {
  if (p.kind === 'git' && p.url && p.commit)
    return { patch: p, requirement: gitRequirement(p.package, p.url, p.commit, p.subdirectory) };
  const published = p.path && p.commit && !p.dirty ? await ctx.git.published(p.path, p.commit) : undefined;
  if (published)
    return {
      patch: p,
      requirement: gitRequirement(p.package, published.url, p.commit!, published.subdirectory || undefined),
    };
  if (sdistDir) return { patch: p, archive: await writeSdist(ctx, p, sdistDir) };
  const why = p.dirty
    ? `the working copy ${p.path} had uncommitted changes (${installedFrom(p)}): there is no commit to pin`
    : p.commit
      ? `commit ${p.commit.slice(0, 12)} of ${p.path} is on no remote branch this checkout knows of: the build could not fetch it`
      : `${p.path} is not a git checkout: there is no commit to pin`;
  throw new UserError(
    `cannot export ${p.package}: ${why}`,
    'commit and push the change, then nfhot patch the working copy (or a git+URL@REF) again; or give --sdist DIR to write the tree as an sdist next to the Dockerfile',
  );
}

/** What to put in the real image build to make a patch permanent, from the patch's labels. */
export async function exportPatch(options: ExportOptions, ctx: Context): Promise<ExportResult> {
  await ctx.engine.ping();
  const state = await patchSetOf(ctx.engine, options.image);
  const original = await ctx.engine.inspectImage(state.originalId);
  if (!original) throw new UserError(`the original of ${state.image} (${state.originalId}) is gone from the daemon`);
  const sdistDir = options.sdist === undefined ? undefined : resolvePath(options.sdist);
  if (sdistDir) await mkdir(sdistDir, { recursive: true });
  const pins: Pin[] = [];
  for (const p of state.patches) pins.push(await pinOf(ctx, p, sdistDir));
  // The registry copy of the original: the one under the image's own repository when there are several.
  const name = parseImageRef(state.image).name;
  const from = original.repoDigests.find((d) => d.startsWith(`${name}@`)) ?? original.repoDigests[0];
  const user =
    typeof original.config.User === 'string' && !/^(root|0)?(:.*)?$/.test(original.config.User)
      ? original.config.User
      : undefined;
  const text = renderExport(
    { image: state.image, ...(from ? { from } : {}), originalId: state.originalId, ...(user ? { user } : {}), pins },
    options.format,
  );
  const written = pins
    .filter((p): p is Extract<Pin, { archive: string }> => 'archive' in p)
    .map((p) => join(sdistDir!, p.archive));
  if (sdistDir) {
    const file = join(sdistDir, FILE_NAME[options.format]);
    await writeFile(file, text);
    written.push(file);
  }
  return { image: state.image, format: options.format, from: from ?? state.image, text, written };
}
