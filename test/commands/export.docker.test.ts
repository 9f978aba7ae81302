// What nfhot export prints must rebuild the patch: built FROM the original, the image runs the
// patched code — also for a fix that keeps the version number, which pip would otherwise leave
// as installed, and in an EXTERNALLY-MANAGED system Python.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { patch } from '../../src/commands/patch.js';
import { rollback } from '../../src/commands/rollback.js';
import { nfhot } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { docker, fixtureTag, runIn } from '../helpers/docker.js';
import { serveRepo } from '../helpers/git-http.js';
import { addVariant, greetRepo, tempDir } from '../helpers/repos.js';

describe('nfhot export, built', () => {
  it.each([
    ['venv-dev', 'greet', ''],
    ['system-dev', 'greet', 'PIP_BREAK_SYSTEM_PACKAGES=1 /usr/bin/python3'],
    ['conda-dev', '/opt/conda/envs/tools/bin/greet', ''],
  ])(
    '%s: a fix that keeps the version, from a repository served over HTTP: the Dockerfile FROM the original runs the fix',
    async (fixture, command, runLine) => {
      const image = await fixtureTag(fixture);
      const repo = await greetRepo();
      await addVariant(repo, 'same-version-fix', '1.0.0');
      const server = await serveRepo(repo.dir, '');
      await patch({ source: `git+${server.url}@same-version-fix`, images: [image] }, testContext());
      expect(await runIn(image, command)).toBe('greet 1.0.0 same-version-fix');

      const exported = await nfhot(['export', image]);
      expect(exported.exitCode, exported.stderr).toBe(0);
      if (runLine) expect(exported.stdout).toContain(`RUN ${runLine} -m pip install`);
      await rollback({ images: [image] }, testContext());
      expect(await runIn(image, command)).toBe('greet 1.0.0 original');

      // As written, but offline: the build uses the image's setuptools (pip would fetch one for an isolated build).
      const dir = tempDir();
      writeFileSync(
        join(dir, 'Dockerfile'),
        exported.stdout.replaceAll('-m pip install', '-m pip install --no-build-isolation'),
      );
      const built = `${image.split(':')[0]}:exported`;
      onTestFinished(() => void docker('rmi', built).catch(() => undefined));
      await execa('docker', ['build', '-q', '--network', 'host', '-t', built, dir], { env: { DOCKER_BUILDKIT: '0' } });
      expect(await runIn(built, command)).toBe('greet 1.0.0 same-version-fix');
    },
  );
});
