// The package shapes real projects use, with real packages from PyPI (the wheelhouse the tests'
// set-up downloads): each patched from a git repository made from its sdist — a fix branch, then
// a working copy with an edit, then the next patch — run as Nextflow runs a task, and rolled back.
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { patch } from '../../src/commands/patch.js';
import { rollback } from '../../src/commands/rollback.js';
import { nfhot } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { docker, fixtureTag, imageId } from '../helpers/docker.js';
import { hostVenv, sdistRepo } from '../helpers/pypi.js';
import { git, tempDir, type GreetRepo } from '../helpers/repos.js';
import { serveIndex } from '../fixtures/pypi/wheelhouse.mjs';
import { inject } from 'vitest';

/** What a task prints: python3 run as Nextflow runs it (another uid, through the image's entrypoint). */
async function task(image: string, code: string): Promise<string> {
  return (await docker('run', '--rm', '-u', '4321:4321', image, 'python3', '-c', code)).trim();
}

/** The installed version of `dist`, its module's `attr` (its own idea of its version), and the fix marker. */
const probe = (dist: string, module: string, attr = '__version__') =>
  `import importlib.metadata as m, ${module} as p; print(m.version(${JSON.stringify(dist)}), getattr(p, ${JSON.stringify(attr)}, "-"), getattr(p, "NFHOT_FIX", "-"))`;

/** A branch off main whose `file` ends with NFHOT_FIX = "value", committed. */
async function fixBranch(repo: GreetRepo, branch: string, file: string, value: string): Promise<string> {
  await git(repo.dir, 'checkout', '-qb', branch, 'main');
  appendFileSync(join(repo.dir, file), `\nNFHOT_FIX = ${JSON.stringify(value)}\n`);
  await git(repo.dir, 'commit', '-qam', `fix: ${value}`);
  return repo.commit(branch);
}

const edit = (repo: GreetRepo, file: string, value: string) =>
  appendFileSync(join(repo.dir, file), `\nNFHOT_FIX = ${JSON.stringify(value)}\n`);

/** What setuptools_scm itself says the version of the checkout in `dir` is (this machine's git, and setuptools_scm from the wheelhouse). */
let scm: Promise<string> | undefined;
async function setuptoolsScm(dir: string): Promise<string> {
  scm ??= hostVenv('setuptools-scm==10.3.4', 'setuptools==84.2.1');
  return (await execa(join(await scm, 'python'), ['-m', 'setuptools_scm'], { cwd: dir })).stdout
    .trim()
    .split('\n')
    .pop()!;
}

const today = () => new Date().toISOString().slice(0, 10).replace(/-/g, '');

describe('real packages from PyPI', () => {
  it('xopen (setuptools_scm, write_to): each patch gets the version setuptools_scm gives that checkout — past a tag, at it, with uncommitted changes', async () => {
    const image = await fixtureTag('pypi-scm');
    const originalId = await imageId(image);
    const repo = await sdistRepo('xopen', 'v2.0.2');
    const commit = await fixBranch(repo, 'fix', 'src/xopen/__init__.py', 'fix-branch');
    const past = `2.0.3.dev1+g${commit.slice(0, 9)}`;

    const ctx = testContext();
    await patch({ source: `git+${repo.url}@fix`, images: [image] }, ctx);
    expect(await task(image, probe('xopen', 'xopen'))).toBe(`${past} ${past} fix-branch`);
    expect(ctx.lines.join('')).toContain(
      'xopen takes its version from git (setuptools_scm): 1 commit past v2.0.2; nfhot hands the build the version it gives that',
    );
    expect(ctx.lines.join('')).toContain(
      `xopen: version ${past} from git (1 commit past v2.0.2, ${commit.slice(0, 12)}; setuptools_scm's guess-next-dev + node-and-date)`,
    );
    await git(repo.dir, 'checkout', '-q', 'fix');
    expect(await setuptoolsScm(repo.dir)).toBe(past);

    // At the tag itself: the release's own version.
    await patch({ source: `git+${repo.url}@v2.0.2`, images: [image] }, testContext());
    expect(await task(image, probe('xopen', 'xopen'))).toBe('2.0.2 2.0.2 -');

    // The working copy with an edit: the dirty form, as setuptools_scm gives it today.
    edit(repo, 'src/xopen/__init__.py', 'working-copy');
    const dirty = await setuptoolsScm(repo.dir);
    expect(dirty).toBe(`${past}.d${today()}`);
    await patch({ source: repo.dir, images: [image] }, testContext());
    expect(await task(image, probe('xopen', 'xopen'))).toBe(`${dirty} ${dirty} working-copy`);
    // Exported as an sdist, it carries its version as a release's sdist does: in PKG-INFO.
    const out = tempDir();
    expect((await nfhot(['export', image, '--sdist', out])).exitCode).toBe(0);
    expect((await execa('tar', ['-xzOf', join(out, `xopen-${dirty}.tar.gz`), `xopen-${dirty}/PKG-INFO`])).stdout).toBe(
      `Metadata-Version: 2.1\nName: xopen\nVersion: ${dirty}`,
    );
    // The next edit: the same version, the new code.
    edit(repo, 'src/xopen/__init__.py', 'next-edit');
    await patch({ source: repo.dir, images: [image] }, testContext());
    expect(await task(image, probe('xopen', 'xopen'))).toBe(`${dirty} ${dirty} next-edit`);

    await rollback({ images: [image] }, testContext());
    expect(await imageId(image)).toBe(originalId);
    expect(await task(image, probe('xopen', 'xopen'))).toBe('2.0.2 2.0.2 -');
  });

  it('pyfaidx (setuptools_scm, no local version) and humanize (hatchling + hatch-vcs, version file): the version git gives each', async () => {
    const image = await fixtureTag('pypi-scm');
    const faidx = await sdistRepo('pyfaidx', 'v0.9.2.2');
    await fixBranch(faidx, 'fix', 'pyfaidx/__init__.py', 'faidx-fix');
    await patch({ source: `git+${faidx.url}@fix`, images: [image] }, testContext());
    expect(await task(image, probe('pyfaidx', 'pyfaidx'))).toBe('0.9.2.3.dev1 0.9.2.3.dev1 faidx-fix');

    const humanize = await sdistRepo('humanize', '4.17.0');
    await fixBranch(humanize, 'fix', 'src/humanize/__init__.py', 'humanize-fix');
    await patch({ source: `git+${humanize.url}@fix`, images: [image] }, testContext());
    expect(await task(image, probe('humanize', 'humanize'))).toBe('4.17.1.dev1 4.17.1.dev1 humanize-fix');
    // The first patch is kept, installed again with the version it had.
    expect(await task(image, probe('pyfaidx', 'pyfaidx'))).toBe('0.9.2.3.dev1 0.9.2.3.dev1 faidx-fix');

    await git(humanize.dir, 'checkout', '-q', 'fix');
    edit(humanize, 'src/humanize/__init__.py', 'humanize-working-copy');
    await patch({ source: humanize.dir, images: [image] }, testContext());
    expect(await task(image, probe('humanize', 'humanize'))).toBe('4.17.1.dev1 4.17.1.dev1 humanize-working-copy');
    await rollback({ images: [image] }, testContext());
    expect(await task(image, probe('humanize', 'humanize'))).toBe('4.17.0 4.17.0 -');
  });

  it('MultiQC with its dependencies: a fix that keeps the version number, a working copy, the next patch, the rollback', async () => {
    const image = await fixtureTag('pypi-multiqc');
    const originalId = await imageId(image);
    const repo = await sdistRepo('multiqc');
    await fixBranch(repo, 'fix', 'multiqc/__init__.py', 'multiqc-fix');
    await patch({ source: `git+${repo.url}@fix`, images: [image] }, testContext());
    expect(await task(image, probe('multiqc', 'multiqc'))).toBe('1.35 1.35 multiqc-fix');
    expect((await docker('run', '--rm', '-u', '4321:4321', image, 'multiqc', '--version')).trim()).toMatch(
      /version 1\.35$/,
    );

    await git(repo.dir, 'checkout', '-q', 'fix');
    edit(repo, 'multiqc/__init__.py', 'multiqc-working-copy');
    await patch({ source: repo.dir, images: [image] }, testContext());
    expect(await task(image, probe('multiqc', 'multiqc'))).toBe('1.35 1.35 multiqc-working-copy');
    edit(repo, 'multiqc/__init__.py', 'multiqc-next');
    const next = await patch({ source: repo.dir, images: [image] }, testContext());
    expect(next.images[0]!.action).toBe('synced');
    expect(await task(image, probe('multiqc', 'multiqc'))).toBe('1.35 1.35 multiqc-next');

    await rollback({ images: [image] }, testContext());
    expect(await imageId(image)).toBe(originalId);
    expect(await task(image, probe('multiqc', 'multiqc'))).toBe('1.35 1.35 -');
  });

  it('compiled (manylinux wheels in the image): tinyalign (Cython, setuptools_scm) and pysam (Cython, htslib) built from source in the image', async () => {
    const image = await fixtureTag('pypi-compiled');
    const originalId = await imageId(image);
    const tiny = await sdistRepo('tinyalign', 'v0.2.2');
    const commit = await fixBranch(tiny, 'fix', 'src/tinyalign/__init__.py', 'tinyalign-fix');
    await patch({ source: `git+${tiny.url}@fix`, images: [image] }, testContext());
    const version = `0.2.3.dev1+g${commit.slice(0, 9)}`;
    expect(
      await task(
        image,
        `${probe('tinyalign', 'tinyalign')}; import tinyalign; print(tinyalign.edit_distance("ACGT", "AGGT"))`,
      ),
    ).toBe(`${version} ${version} tinyalign-fix\n1`);

    const pysam = await sdistRepo('pysam');
    await fixBranch(pysam, 'fix', 'pysam/utils.py', 'pysam-fix');
    const check = `import importlib.metadata as m, pysam, pysam.utils as u; print(m.version("pysam"), u.NFHOT_FIX, pysam.libcalignedsegment.__file__.endswith(".so"))`;
    await patch({ source: `git+${pysam.url}@fix`, images: [image] }, testContext());
    expect(await task(image, check)).toBe('0.24.1 pysam-fix True');
    expect(await task(image, probe('tinyalign', 'tinyalign'))).toBe(`${version} ${version} tinyalign-fix`); // kept

    await git(pysam.dir, 'checkout', '-q', 'fix');
    edit(pysam, 'pysam/utils.py', 'pysam-working-copy');
    await patch({ source: pysam.dir, images: [image] }, testContext());
    expect(await task(image, check)).toBe('0.24.1 pysam-working-copy True');
    edit(pysam, 'pysam/utils.py', 'pysam-next');
    expect((await patch({ source: pysam.dir, images: [image] }, testContext())).images[0]!.action).toBe('synced');
    expect(await task(image, check)).toBe('0.24.1 pysam-next True');

    await rollback({ images: [image] }, testContext());
    expect(await imageId(image)).toBe(originalId);
    expect(await task(image, 'import pysam.utils as u; print(hasattr(u, "NFHOT_FIX"))')).toBe('False');
  }, 1_500_000); // two builds of pysam, about 3.5 min each on two cores
});

describe('a version from git without git', () => {
  it("a plain directory of a setuptools_scm package: nfhot says so before, and the failure once, with nfhot's word on the cause", async () => {
    const image = await fixtureTag('pypi-scm');
    const repo = await sdistRepo('xopen', 'v2.0.2');
    rmSync(join(repo.dir, '.git'), { recursive: true });
    const result = await nfhot(['patch', repo.dir, '--image', image]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      `nfhot: warning: xopen takes its version from git (setuptools_scm), but ${repo.dir} is not in a git checkout: there is no version to compute`,
    );
    expect(result.stderr).toMatch(
      /nfhot: error: cannot build in \S+: the package takes its version from git \(setuptools_scm\), and nfhot had no git history to compute it from/,
    );
    expect(result.stderr.match(/Traceback \(most recent call last\)/g)?.length ?? 0).toBeLessThanOrEqual(1);
    expect(result.stderr.match(/setuptools-scm was unable to detect version/g)?.length).toBe(1);
  });
});

describe('an environment without the build backend, and no index', () => {
  const xopen = async () => {
    const repo = await sdistRepo('xopen', 'v2.0.2');
    const commit = await fixBranch(repo, 'fix', 'src/xopen/__init__.py', 'pixi-fix');
    return { repo, version: `2.0.3.dev1+g${commit.slice(0, 9)}` };
  };
  const ENV = '/opt/wave/.pixi/envs/default/bin/python3';

  it("builds the wheel with another Python of the image that has it, and installs it into the task's environment", async () => {
    const image = await fixtureTag('pypi-pixi-otherpython');
    const { repo, version } = await xopen();
    const ctx = testContext();
    await patch({ source: `git+${repo.url}@fix`, images: [image] }, ctx);
    expect(ctx.lines.join('')).toMatch(
      /built xopen-2\.0\.3\.dev1\+g[0-9a-f]{9}-py3-none-any\.whl with \/usr\/bin\/python3 \(this environment lacks setuptools, wheel, setuptools_scm\)/,
    );
    expect(
      await docker('run', '--rm', image, 'sh', '-c', `command -v python3; python3 -c '${probe('xopen', 'xopen')}'`),
    ).toBe(`${ENV}\n${version} ${version} pixi-fix`);
  });

  it('builds it on this machine when no Python of the image has it; else says which backend, and where nfhot looked; an index the user configured (on loopback) gives it', async () => {
    const image = await fixtureTag('pypi-pixi-nobackend');
    const originalId = await imageId(image);
    const { repo, version } = await xopen();
    const source = `git+${repo.url}@fix`;
    const run = (bin: string, env: Record<string, string> = {}) =>
      nfhot(['patch', source, '--image', image], {
        env: { PATH: `${bin}:${process.env.PATH}`, PIP_FIND_LINKS: '', ...env },
      });

    // This machine's python3 has no setuptools_scm either: nothing can build it offline.
    const bare = await run(await hostVenv());
    expect(bare.exitCode).toBe(1);
    expect(bare.stderr).toMatch(
      /nfhot: error: cannot build in .*: the build requirements setuptools_scm are in none of \/opt\/wave\/\.pixi\/envs\/default\/bin\/python3 in the image, \/usr\/bin\/python3 in the image, this machine's python3 \(.*\), and pip could not fetch them \(the image reached no package index\)/,
    );
    expect(await imageId(image)).toBe(originalId);

    // The user's index, on this machine's loopback: pip in the work container fetches the backend from it.
    const index = await serveIndex(inject('wheelhouse'), { seconds: 600 });
    try {
      const indexed = await run(await hostVenv(), { PIP_INDEX_URL: index.url });
      expect(indexed.exitCode, indexed.stderr).toBe(0);
      expect(indexed.stderr).toContain(
        `pip in the work container uses this machine's settings for its index: index-url ${index.url} (PIP_INDEX_URL); the work container runs on the host's network to reach 127.0.0.1`,
      );
      expect(await docker('run', '--rm', image, 'python3', '-c', probe('xopen', 'xopen'))).toBe(
        `${version} ${version} pixi-fix`,
      );
      // Nothing of the index is left in the image: not in its config, its history or its files.
      const derivative = indexed.stdout.trim();
      expect(await docker('image', 'inspect', derivative)).not.toContain(index.url);
      expect(await docker('history', '--no-trunc', derivative)).not.toContain(index.url);
      expect(
        await docker(
          'run',
          '--rm',
          '--entrypoint',
          '/bin/sh',
          derivative,
          '-c',
          `grep -rl "${new URL(index.url).host}" /opt/wave /root /etc 2>/dev/null | head -3`,
        ),
      ).toBe('');
    } finally {
      await index.close();
    }
    await rollback({ images: [image] }, testContext());

    // This machine's python3 has the backend: it builds the wheel (pure Python, the same whoever builds it).
    const hosted = await run(await hostVenv('setuptools-scm==10.3.4', 'setuptools==84.2.1', 'wheel==0.48.0'));
    expect(hosted.exitCode, hosted.stderr).toBe(0);
    expect(hosted.stderr).toMatch(
      /built xopen-2\.0\.3\.dev1\+g[0-9a-f]{9}-py3-none-any\.whl with \S+\/venv\/bin\/python3? on this machine/,
    );
    expect(await docker('run', '--rm', image, 'python3', '-c', probe('xopen', 'xopen'))).toBe(
      `${version} ${version} pixi-fix`,
    );
  });

  it('installs a dependency the fix adds from the index the user configured', async () => {
    const image = await fixtureTag('pypi-scm');
    const repo = await sdistRepo('xopen', 'v2.0.2');
    await git(repo.dir, 'checkout', '-qb', 'needs-natsort', 'main');
    const pyproject = join(repo.dir, 'pyproject.toml');
    await execa('sed', ['-i', 's/^dependencies = \\[/dependencies = [\\n    "natsort>=8",/', pyproject]);
    appendFileSync(
      join(repo.dir, 'src/xopen/__init__.py'),
      '\nimport natsort as _natsort\nNFHOT_FIX = _natsort.__version__\n',
    );
    await git(repo.dir, 'commit', '-qam', 'needs natsort');
    const index = await serveIndex(inject('wheelhouse'), { seconds: 600 });
    try {
      // With credentials in the URL, as a private index has them: never printed, never in the image.
      const url = index.url.replace('http://', 'http://nfhot:index-secret-7f3a@');
      const result = await nfhot(['patch', `git+${repo.url}@needs-natsort`, '--image', image], {
        env: { PIP_INDEX_URL: url, PIP_FIND_LINKS: '' },
      });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/natsort>=8: installing what xopen-.*\.whl requires that the environment lacks/);
      expect(result.stderr).toContain(`index-url ${index.url} (PIP_INDEX_URL)`);
      expect(result.stdout + result.stderr).not.toContain('index-secret-7f3a');
      expect(await task(image, probe('xopen', 'xopen'))).toMatch(/ 8\.4\.0$/);
      const derivative = result.stdout.trim();
      expect(await docker('image', 'inspect', derivative)).not.toContain('index-secret-7f3a');
      expect(await docker('history', '--no-trunc', derivative)).not.toContain('index-secret-7f3a');
    } finally {
      await index.close();
    }
  });
});
