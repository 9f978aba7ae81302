// The images pipelines really run, imitated offline (test/fixtures/layouts), each with the test
// package installed one of the ways real images got theirs: patched from a branch (as a layer
// nfhot writes, or with pip where that cannot be done as pip would), run the way Nextflow runs a
// task, patched again, rolled back.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { layoutFixtures } from '../fixtures/images.mjs';
import { nfhot } from '../helpers/cli.js';
import { fixtureTag, imageId, rawInspect, withoutNfhotLabels } from '../helpers/docker.js';
import { addVariant, greetRepo, tempDir } from '../helpers/repos.js';

/** Where each layout's environment is (its interpreter, its site-packages), and where its pip comes from. */
const conda = (prefix: string) => ({ python: `${prefix}/bin/python3`, site: `${prefix}/lib/python3.11/site-packages` });
const LAYOUTS: Record<string, { python: string; site: string; pip: 'own' | 'image' | 'host' }> = {
  biocontainers: { ...conda('/usr/local'), pip: 'host' },
  micromamba: { ...conda('/opt/conda'), pip: 'own' },
  pixi: { ...conda('/opt/wave/.pixi/envs/default'), pip: 'image' },
  jupyter: { ...conda('/opt/conda'), pip: 'own' },
  nfcore: { ...conda('/opt/conda/envs/nf-core-demo-1.0'), pip: 'own' },
  slim: { ...conda('/usr/local'), pip: 'own' },
  debian: { python: '/usr/bin/python3', site: '/usr/local/lib/python3.11/dist-packages', pip: 'own' },
};

/** The kinds of install pip cannot uninstall, and what nfhot says it removes instead (conda's own record of the files, or the top-level package). */
const UNRECORDED = new Map([
  ['conda-norecord', 'the \\d+ files conda-meta/python-greet-1\\.0\\.0-pyhd8ed1ab_0\\.json lists'],
  ['egginfo', 'its top-level greet'],
]);

/**
 * How each kind of install is replaced: a layer nfhot writes (a .dist-info with a RECORD, where
 * pip installs), else pip, and why: what the layer writer cannot do as pip would.
 */
const PIP_BECAUSE: Record<string, RegExp | undefined> = {
  pip: undefined,
  conda: undefined,
  'conda-norecord': /the installed greet \(\S+\/greet-1\.0\.0\.dist-info\) is not a \.dist-info with a RECORD/,
  egginfo: /the installed greet \(\S+\/greet-1\.0\.0-py3\.11\.egg-info\) is not a \.dist-info with a RECORD/,
  // A checkout on sys.path: a .pth line (conda develop, setup.py develop) or an editable finder (PEP 660).
  editable: /`import greet` finds \/src\/greet\/src\/greet\/__init__\.py, outside /,
  egglink: /`import greet` finds \/src\/greet\/src\/greet\/__init__\.py, outside /,
  condadevelop: /`import greet` finds \/src\/greet\/src\/greet\/__init__\.py, outside /,
};

const CONFIG_FIELDS = ['Cmd', 'Entrypoint', 'User', 'WorkingDir', 'Env', 'Labels', 'ExposedPorts', 'Volumes'] as const;

// Prints what the task sees: greet's output, where `import greet` comes from, every greet
// distribution listed, and how many owners the package's files and its site directory have.
const TASK = `greet
python3 -c '
import greet, importlib.metadata as m, os
dists = [d for d in m.distributions() if d.metadata["Name"] == "greet"]
pkg = os.path.dirname(greet.__file__)
print(greet.__file__)
print(" ".join(sorted(d.version for d in dists)))
print(len({(os.stat(p).st_uid, os.stat(p).st_gid) for p in (os.path.dirname(pkg), pkg, greet.__file__, str(dists[0]._path))}))
'
`;

/** Runs TASK as Nextflow runs a task: the image's entrypoint, another uid, a mounted work dir, bash -ue. */
async function task(image: string): Promise<{ output: string; file: string; versions: string; owners: string }> {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, '.command.sh'), TASK, { mode: 0o644 });
  const { stdout } = await execa('docker', [
    'run',
    '-i',
    '--rm',
    '-u',
    '4321:4321',
    '-v',
    `${dir}:${dir}`,
    '-w',
    dir,
    image,
    '/bin/bash',
    '-ue',
    `${dir}/.command.sh`,
  ]);
  const [output = '', file = '', versions = '', owners = ''] = stdout.trim().split('\n');
  return { output, file, versions, owners };
}

function config(inspect: { Config: Record<string, unknown> }): Record<string, unknown> {
  return Object.fromEntries(
    CONFIG_FIELDS.map((f) => [
      f,
      f === 'Labels' ? withoutNfhotLabels(inspect.Config.Labels) : (inspect.Config[f] ?? null),
    ]),
  );
}

describe('images pipelines run', () => {
  it.each(layoutFixtures())(
    '$layout, greet installed as $kind: patch, run as a task, patch again, roll back',
    async ({ name, layout, kind }) => {
      const { python, site, pip } = LAYOUTS[layout]!;
      const image = await fixtureTag(name);
      const repo = await greetRepo();
      await addVariant(repo, 'second', '1.2.0');
      const originalId = await imageId(image);
      const before = config(await rawInspect(image));
      expect((await task(image)).output).toBe('greet 1.0.0 original');

      const patched = await nfhot(['patch', `git+${repo.url}@feature`, '--image', image]);
      expect(patched.exitCode, patched.stderr).toBe(0);
      const derivative = patched.stdout.trim();
      expect(patched.stderr).toContain(`Python 3.11.2 at ${python} (it has greet 1.0.0`);
      const pipBecause = PIP_BECAUSE[kind];
      if (pip !== 'own')
        expect(patched.stderr).toContain(
          pip === 'image' ? "pip run from the image's pip-" : "pip run from this machine's pip-",
        );
      if (pipBecause) expect(patched.stderr).toMatch(new RegExp(`pip installed it: ${pipBecause.source}`));
      else expect(patched.stderr).toMatch(/loading the layer \(\d+ files, [\d.]+ [kM]B\)/);
      expect(patched.stderr.includes('$ pip install'), patched.stderr).toBe(pipBecause !== undefined);
      if (UNRECORDED.has(kind))
        expect(patched.stderr).toMatch(
          new RegExp(
            `greet 1\\.0\\.0 has no record of its files that pip can use \\(greet-1\\.0\\.0[^)]*\\): removing ${UNRECORDED.get(kind)} and its metadata first`,
          ),
        );
      if (kind === 'condadevelop')
        expect(patched.stderr).toMatch(
          /greet is listed a second time by \/src\/greet\/src\/greet\.egg-info; taking \/src\/greet\/src off sys\.path \(line of \S+\/conda\.pth\)/,
        );

      for (const ref of [image, derivative]) {
        // The new code, from the environment's site-packages, listed once, owned like the environment.
        expect(await task(ref)).toEqual({
          output: 'greet 1.1.0 feature',
          file: `${site}/greet/__init__.py`,
          versions: '1.1.0',
          owners: '1',
        });
      }
      expect(config(await rawInspect(image))).toEqual(before);

      const again = await nfhot(['patch', `git+${repo.url}@second`, '--image', image]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(await task(image)).toEqual({
        output: 'greet 1.2.0 second',
        file: `${site}/greet/__init__.py`,
        versions: '1.2.0',
        owners: '1',
      });
      expect(await task(again.stdout.trim())).toMatchObject({ output: 'greet 1.2.0 second' });

      const rolled = await nfhot(['rollback', image]);
      expect(rolled.exitCode, rolled.stderr).toBe(0);
      expect(await imageId(image)).toBe(originalId);
      expect((await task(image)).output).toBe('greet 1.0.0 original');
    },
  );
});
