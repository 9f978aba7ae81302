import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { patch } from '../../src/commands/patch.js';
import { UserError } from '../../src/core/base/errors.js';
import { fromLabels, LABEL } from '../../src/core/image/record.js';
import { keeperRef, nfhotRepository, parseImageRef } from '../../src/core/image/reference.js';
import { testContext } from '../helpers/context.js';
import {
  comparable,
  docker,
  exists,
  fixtureTag,
  imageId,
  rawInspect,
  runIn,
  withoutNfhotLabels,
} from '../helpers/docker.js';
import { addVariant, git, greetRepo, otherRepo, setVariant, tempDir } from '../helpers/repos.js';

const CONFIG_FIELDS = ['Cmd', 'Entrypoint', 'User', 'WorkingDir', 'Env', 'ExposedPorts', 'Volumes'] as const;

describe('nfhot patch', () => {
  it('installs a git branch: the same tag and the immutable reference both run the new code', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    const originalId = await imageId(image);
    expect(await runIn(image, 'greet')).toBe('greet 1.0.0 original');
    expect(await runIn(image, 'sh', '-c', 'command -v git || echo none')).toBe('none'); // no git in the image

    const ctx = testContext();
    const result = await patch({ source: `git+${repo.url}@feature`, images: [image] }, ctx);

    const [r] = result.images;
    expect(r?.action).toBe('built');
    expect(ctx.lines.join('')).not.toContain('EXTERNALLY-MANAGED'); // a venv is not
    expect(r?.python).toBe('/opt/venv/bin/python3');
    expect(result.commit).toBe(await repo.commit('feature'));
    // Absolute for Nextflow (a '.' before the first '/'): nfhot's repository for the image, the tag and the patch set's hash.
    expect(r!.derivative).toMatch(
      new RegExp(`^${nfhotRepository(parseImageRef(image)).replace(/[.]/g, '\\.')}:dev-[0-9a-f]{12}$`),
    );
    expect(r!.derivative.split('/')[0]).toBe('nfhot.local');
    expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');
    expect(await runIn(r!.derivative, 'greet')).toBe('greet 1.1.0 feature');
    expect(await imageId(keeperRef(parseImageRef(image)))).toBe(originalId);

    const labels = (await rawInspect(image)).Config.Labels as Record<string, string>;
    const record = fromLabels(labels);
    expect(record).toMatchObject({ image, original: originalId, derivative: r!.derivative });
    expect(record?.patches).toEqual([
      expect.objectContaining({
        package: 'greet',
        version: '1.1.0',
        kind: 'git',
        ref: 'feature',
        commit: await repo.commit('feature'),
        source: `git+${repo.url}@feature`,
        noDeps: false,
      }),
    ]);
    // pip's record of where the package came from names the repository and commit, not the temporary export.
    const directUrl = JSON.parse(
      await runIn(image, 'sh', '-c', 'cat /opt/venv/lib/python3*/site-packages/greet-1.1.0.dist-info/direct_url.json'),
    );
    expect(directUrl).toEqual({
      url: repo.url,
      vcs_info: { vcs: 'git', commit_id: await repo.commit('feature'), requested_revision: 'feature' },
    });
    expect(ctx.lines.some((l) => l.includes('Python 3.11') && l.includes('/opt/venv/bin/python3'))).toBe(true);
  });

  it('keeps the original config field by field, ENTRYPOINT and non-root USER included', async () => {
    const image = await fixtureTag('nonroot');
    const repo = await greetRepo();
    const before = await rawInspect(image);
    await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    const after = await rawInspect(image);

    for (const field of CONFIG_FIELDS)
      expect(comparable(after.Config)[field], field).toEqual(comparable(before.Config)[field]);
    expect(withoutNfhotLabels(after.Config.Labels)).toEqual(before.Config.Labels);
    expect(comparable({ ...after.Config, Labels: null })).toEqual(comparable({ ...before.Config, Labels: null }));
    expect(
      Object.keys(after.Config.Labels as object)
        .filter((k) => k.startsWith('io.nfhot.'))
        .sort(),
    ).toEqual(Object.values(LABEL).sort());
    // The image's own entrypoint and user still run, and the new code is there.
    expect(await runIn(image)).toBe('entry as 1000:\ngreet 1.1.0 feature');
  });

  it('installs files any uid can read: Nextflow runs tasks as the caller', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    expect((await execa('docker', ['run', '--rm', '--user', '4242:4242', image, 'greet'])).stdout).toBe(
      'greet 1.1.0 feature',
    );
    const unreadable = await runIn(
      image,
      'sh',
      '-c',
      'find /opt/venv/bin/greet /opt/venv/lib/python3*/site-packages/greet* ! -perm -o+r -print',
    );
    expect(unreadable).toBe('');
  });

  it('patches the system Python of an image with no CMD or ENTRYPOINT, EXTERNALLY-MANAGED or not', async () => {
    const image = await fixtureTag('system');
    const repo = await greetRepo();
    const before = await rawInspect(image);
    expect(before.Config.Cmd).toBeNull();
    expect(before.Config.Entrypoint).toBeNull();
    const ctx = testContext();
    const result = await patch({ source: `git+${repo.url}@feature`, images: [image] }, ctx);
    const after = await rawInspect(image);
    expect(result.images[0]?.python).toBe('/usr/bin/python3');
    expect(ctx.lines.join('')).toMatch(
      /nfhot: warning: \/usr\/bin\/python3 in \S+ is EXTERNALLY-MANAGED \(PEP 668\); patching it anyway/,
    );
    expect(comparable({ ...after.Config, Labels: null })).toEqual(comparable({ ...before.Config, Labels: null }));
    expect(after.RootFS.Layers).toEqual([...before.RootFS.Layers, after.RootFS.Layers.at(-1)]);
    expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');
    await docker('history', image); // the rewritten config keeps a history docker can read
  });

  it('finds the conda-style environment that has the package, even when it is not on PATH', async () => {
    const image = await fixtureTag('conda');
    const repo = await greetRepo();
    const result = await patch({ source: `git+${repo.url}@v1.1.0`, images: [image] }, testContext());
    expect(result.images[0]?.python).toBe('/opt/conda/envs/tools/bin/python3');
    expect(result.images[0]?.pythonReason).toBe('it has greet 1.0.0');
    expect(await runIn(image, '/opt/conda/envs/tools/bin/greet')).toBe('greet 1.1.0 feature');
  });

  it('installs with the interpreter given by --python', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    const result = await patch(
      { source: `git+${repo.url}@feature`, images: [image], python: '/usr/bin/python3' },
      testContext(),
    );
    expect(result.images[0]?.python).toBe('/usr/bin/python3');
    expect(await runIn(image, '/usr/bin/python3', '-c', 'import greet; greet.main()')).toBe('greet 1.1.0 feature');
    expect(await runIn(image, 'greet')).toBe('greet 1.0.0 original'); // the venv was left alone
  });

  it('installs a local working tree as it is now, uncommitted edits included', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    setVariant(repo.dir, 'uncommitted', '1.2.0.dev0');
    const ctx = testContext();
    const index = readFileSync(join(repo.dir, '.git', 'index'));
    const first = await patch({ source: repo.dir, images: [image] }, ctx);
    expect(await runIn(image, 'greet')).toBe('greet 1.2.0.dev0 uncommitted');
    const record = fromLabels((await rawInspect(image)).Config.Labels as Record<string, string>)!;
    expect(record.patches[0]).toMatchObject({
      kind: 'dir',
      path: repo.dir,
      ref: 'main',
      commit: await repo.commit('main'),
      dirty: true,
    });
    // The user's index is untouched: the edit is still unstaged.
    expect(readFileSync(join(repo.dir, '.git', 'index'))).toEqual(index);
    expect(await git(repo.dir, 'diff', '--cached', '--name-only')).toBe('');
    expect(await git(repo.dir, 'diff', '--name-only')).toContain('pyproject.toml');

    // Same tree again: same reference, nothing rebuilt. Another edit: a new reference.
    const again = await patch({ source: repo.dir, images: [image] }, testContext());
    expect(again.images[0]).toMatchObject({ action: 'unchanged', derivative: first.images[0]!.derivative });
    appendFileSync(join(repo.dir, 'src/greet/__init__.py'), 'VARIANT = "edited again"\n');
    const edited = await patch({ source: repo.dir, images: [image] }, testContext());
    expect(edited.images[0]?.derivative).not.toBe(first.images[0]?.derivative);
    expect(await runIn(image, 'greet')).toBe('greet 1.2.0.dev0 edited again');
  });

  it('installs a plain directory that is not a git checkout', async () => {
    const image = await fixtureTag('venv');
    const dir = join(tempDir(), 'greet');
    cpSync('test/fixtures/greet', dir, { recursive: true });
    setVariant(dir, 'plain', '1.3.0');
    writeFileSync(join(dir, 'junk.pyc'), 'not part of the source');
    const result = await patch({ source: dir, images: [image] }, testContext());
    expect(result.images[0]?.action).toBe('built');
    expect(await runIn(image, 'greet')).toBe('greet 1.3.0 plain');
  });

  it('reuses the derivative of a patch set it has made before, without running pip', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    const feature = await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    const featureId = await imageId(image);
    await patch({ source: `git+${repo.url}@main`, images: [image] }, testContext());
    expect(await runIn(image, 'greet')).toBe('greet 1.0.0 original');

    const ctx = testContext();
    const back = await patch({ source: `git+${repo.url}@feature`, images: [image] }, ctx);
    expect(back.images[0]).toMatchObject({ action: 'reused', derivative: feature.images[0]!.derivative });
    expect(await imageId(image)).toBe(featureId);
    expect(ctx.lines.join('')).toContain(
      `${image}: ${feature.images[0]!.derivative} already holds this patch set; pip will not run`,
    );
    expect(ctx.lines.join('')).not.toContain('pip install into');
    expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');
  });

  it('replaces the earlier patch of a package, keeps patches of others, and stays one layer above the original', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    const other = await otherRepo();
    const originalLayers = (await rawInspect(image)).RootFS.Layers;
    const refs = ['feature', 'main', 'v1.1.0', 'feature'];
    for (const ref of refs) {
      await patch({ source: `git+${repo.url}@${ref}`, images: [image] }, testContext());
      expect((await rawInspect(image)).RootFS.Layers.slice(0, -1)).toEqual(originalLayers);
    }
    await patch({ source: `git+${other.url}@main`, images: [image] }, testContext());
    expect(await runIn(image, 'other')).toBe('other 0.1.0 other');
    expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');

    await git(repo.dir, 'checkout', '-q', 'main');
    setVariant(repo.dir, 'local', '2.0.0');
    const result = await patch({ source: repo.dir, images: [image] }, testContext());
    expect(result.images[0]?.replaces).toContain('greet 1.1.0');
    expect(result.images[0]?.patches.map((p) => `${p.package} ${p.version}`).sort()).toEqual([
      'greet 2.0.0',
      'other 0.1.0',
    ]);
    expect(await runIn(image, 'greet')).toBe('greet 2.0.0 local');
    expect(await runIn(image, 'other')).toBe('other 0.1.0 other');
    expect((await rawInspect(image)).RootFS.Layers).toHaveLength(originalLayers.length + 1);
  });

  it("keeps its work out of the image: the job's files in the image's empty /tmp (in memory), else in a directory it removes", async () => {
    const withTmp = await fixtureTag('venv');
    const withoutTmp = await fixtureTag('venv', 'no-tmp'); // as BioContainers' base
    await execa('docker', ['build', '-q', '-t', withoutTmp, '-'], { input: `FROM ${withoutTmp}\nRUN rm -rf /tmp\n` });
    const keeping = await fixtureTag('venv', 'keeps-tmp'); // files of its own in /tmp
    await execa('docker', ['build', '-q', '-t', keeping, '-'], {
      input: `FROM ${keeping}\nRUN echo kept > /tmp/kept\n`,
    });
    const listing = (image: string) =>
      docker('run', '--rm', '-u', '0', '--entrypoint', '/bin/sh', image, '-c', 'ls -A /; ls -A /tmp 2>&1; true');
    const repo = await greetRepo();
    const other = await otherRepo();
    for (const image of [withTmp, withoutTmp, keeping]) {
      const before = await listing(image);
      // The first patch is a layer nfhot writes; the second installs both packages with pip, and commits.
      await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
      await patch({ source: `git+${other.url}@main`, images: [image] }, testContext());
      expect(await runIn(image, 'other')).toBe('other 0.1.0 other');
      expect(await listing(image), image).toBe(before);
    }
    // What an image keeps in /tmp, its install sees (a build that reads it).
    const reads = tempDir();
    writeFileSync(
      join(reads, 'pyproject.toml'),
      '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "tmpseen"\nversion = "1.0"\n\n[tool.setuptools]\npackages = ["tmpseen"]\n',
    );
    writeFileSync(
      join(reads, 'setup.py'),
      "import os\nfrom setuptools import setup\nos.makedirs('tmpseen', exist_ok=True)\nwith open('tmpseen/__init__.py', 'w') as fh:\n    fh.write('SEEN = %r\\n' % open('/tmp/kept').read().strip())\nsetup()\n",
    );
    await patch({ source: reads, images: [keeping] }, testContext());
    expect(await runIn(keeping, 'python3', '-c', 'import tmpseen; print(tmpseen.SEEN)')).toBe('kept');
  });

  it('leaves satisfied dependencies alone and installs the package alone with --no-deps', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    const pyproject = join(repo.dir, 'pyproject.toml');
    const withDependency = (dependency: string) => {
      setVariant(repo.dir, 'deps', '1.5.0');
      writeFileSync(
        pyproject,
        readFileSync(pyproject, 'utf8').replace(
          'version = "1.5.0"',
          `version = "1.5.0"\ndependencies = ["${dependency}"]`,
        ),
      );
    };
    // A dependency the image already has: left as it is, not reinstalled.
    const setuptools = () =>
      runIn(
        image,
        'python3',
        '-c',
        'import os, setuptools; print(setuptools.__version__, setuptools.__file__, os.stat(setuptools.__file__).st_mtime_ns)',
      );
    const before = await setuptools();
    withDependency('setuptools');
    expect((await patch({ source: repo.dir, images: [image] }, testContext())).images[0]?.action).toBe('built');
    expect(await setuptools()).toBe(before);
    // One no index here can provide: pip fails, saying which and what to do, unless told to install the package alone.
    withDependency('nfhot-no-such-dependency>=1');
    const failure = await patch({ source: repo.dir, images: [image] }, testContext()).catch((err: UserError) => err);
    expect(failure).toBeInstanceOf(UserError);
    expect((failure as UserError).message).toMatch(
      /: nfhot-no-such-dependency>=1 is needed and not in the image, and (pip there reached no package index to get it|no package index pip reached has it)$/,
    );
    expect((failure as UserError).hint).toMatch(
      /^patch with --no-deps to install the package alone, or add nfhot-no-such-dependency>=1 to the image/,
    );
    await patch({ source: repo.dir, images: [image], noDeps: true }, testContext());
    expect(await runIn(image, 'greet')).toBe('greet 1.5.0 deps');
  });

  it('installs a version with a local label (pip percent-encodes its +) and a package in a subdirectory of its repository', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    await addVariant(repo, 'lab', '2.0+lab1');
    const local = await patch({ source: `git+${repo.url}@lab`, images: [image] }, testContext());
    expect(local.images[0]!.patches[0]).toMatchObject({ package: 'greet', version: '2.0+lab1' });
    expect(await runIn(image, 'greet')).toBe('greet 2.0+lab1 lab');

    // A monorepo: the package under packages/greet.
    const mono = join(tempDir(), 'mono');
    cpSync('test/fixtures/greet', join(mono, 'packages', 'greet'), { recursive: true });
    setVariant(join(mono, 'packages', 'greet'), 'monorepo', '3.0.0');
    await git(mono, 'init', '-q', '-b', 'main');
    await git(mono, 'add', '-A');
    await git(mono, 'commit', '-qm', 'monorepo');
    const sub = await patch(
      { source: `git+file://${mono}@main#subdirectory=packages/greet`, images: [image] },
      testContext(),
    );
    expect(sub.images[0]!.patches[0]).toMatchObject({
      package: 'greet',
      version: '3.0.0',
      subdirectory: 'packages/greet',
    });
    expect(await runIn(image, 'greet')).toBe('greet 3.0.0 monorepo');
    await expect(
      patch({ source: `git+file://${mono}@main#subdirectory=packages/nope`, images: [image] }, testContext()),
    ).rejects.toThrow(/no directory packages\/nope at main/);
  });

  it('patches several images at once', async () => {
    const a = await fixtureTag('venv');
    const b = await fixtureTag('conda');
    const repo = await greetRepo();
    const result = await patch({ source: `git+${repo.url}@feature`, images: [a, b] }, testContext());
    expect(result.images.map((r) => r.action)).toEqual(['built', 'built']);
    expect(await runIn(a, 'greet')).toBe('greet 1.1.0 feature');
    expect(await runIn(b, '/opt/conda/envs/tools/bin/greet')).toBe('greet 1.1.0 feature');
  });

  it('changes nothing with --dry-run', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    const before = await imageId(image);
    const result = await patch({ source: `git+${repo.url}@feature`, images: [image], dryRun: true }, testContext());
    expect(result.images[0]).toMatchObject({ action: 'planned', python: '/opt/venv/bin/python3' });
    expect(await imageId(image)).toBe(before);
    expect(await exists(result.images[0]!.derivative)).toBe(false);
    expect(await exists(keeperRef(parseImageRef(image)))).toBe(false);
  });

  it('finds the repository of NAME@REF from --repo, or from what the image records', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    await expect(patch({ source: 'greet@feature', images: [image] }, testContext())).rejects.toThrow(
      /cannot tell where greet's repository is/,
    );
    await patch({ source: 'greet@feature', images: [image], repo: repo.url }, testContext());
    expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');
    // The patched image records its repository (PEP 610), so the next NAME@REF needs no --repo.
    await patch({ source: 'greet@main', images: [image] }, testContext());
    expect(await runIn(image, 'greet')).toBe('greet 1.0.0 original');
  });
});
