import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/base/errors.js';
import { buildSif, findSifProgram, sifBuildArgs, sifCacheDir, sifName } from '../../../src/core/image/singularity.js';
import { execaPrograms } from '../../../src/adapters/programs.js';
import { tempDir } from '../../helpers/repos.js';

const DERIVATIVE = 'nfhot.local/org/tool:dev-0123456789ab';

/**
 * A stand-in for singularity/apptainer (neither can be installed here): it records its arguments
 * and writes the file `build TARGET SOURCE` names, or fails as told.
 */
function standIn(
  name: string,
  behaviour = 'printf "INFO:    Creating SIF file...\\n"; printf x > "$2"',
): { dir: string; calls: () => string[][] } {
  const dir = tempDir('nfhot-sif-bin-');
  const log = join(dir, 'calls');
  writeFileSync(
    join(dir, name),
    `#!/bin/sh\nprintf '%s\\0' "$@" >> '${log}'; printf '\\n' >> '${log}'\n${behaviour}\n`,
  );
  chmodSync(join(dir, name), 0o755);
  const calls = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('\0').slice(0, -1))
      : [];
  return { dir, calls };
}

describe('SIF files of patch sets', () => {
  it('are named by the derivative, as Nextflow names its cache files, so one patch set has one file', () => {
    expect(sifName(DERIVATIVE)).toBe('nfhot.local-org-tool-dev-0123456789ab.sif');
    expect(sifName('nfhot.local/quay.io/biocontainers/fastqc:0.12.1-0123456789ab')).toBe(
      'nfhot.local-quay.io-biocontainers-fastqc-0.12.1-0123456789ab.sif',
    );
    expect(sifName(DERIVATIVE)).not.toBe(sifName('nfhot.local/org/tool:dev-ba9876543210'));
  });

  it('go where Nextflow caches images: config cacheDir, NXF_<ENGINE>_CACHEDIR, <ENGINE>_PULLFOLDER, <workDir>/singularity', () => {
    const none = { cacheDir: {} };
    expect(
      sifCacheDir('singularity', '/p', { cacheDir: { singularity: '/sif' } }, { NXF_SINGULARITY_CACHEDIR: '/env' }),
    ).toBe('/sif');
    expect(sifCacheDir('singularity', '/p', { cacheDir: { singularity: 'cache' } }, {})).toBe('/p/cache');
    expect(
      sifCacheDir('singularity', '/p', none, { NXF_SINGULARITY_CACHEDIR: '/env', SINGULARITY_PULLFOLDER: '/pull' }),
    ).toBe('/env');
    expect(sifCacheDir('singularity', '/p', none, { SINGULARITY_PULLFOLDER: '/pull' })).toBe('/pull');
    expect(sifCacheDir('singularity', '/p', none, {})).toBe('/p/work/singularity');
    expect(sifCacheDir('singularity', '/p', { cacheDir: {}, workDir: '/scratch/work' }, {})).toBe(
      '/scratch/work/singularity',
    );
    expect(sifCacheDir('singularity', '/p', none, { NXF_WORK: '/w' })).toBe('/w/singularity');
    // Apptainer reads its own settings, and still defaults to <workDir>/singularity.
    expect(
      sifCacheDir(
        'apptainer',
        '/p',
        { cacheDir: { singularity: '/sif' } },
        { NXF_SINGULARITY_CACHEDIR: '/env', NXF_APPTAINER_CACHEDIR: '/app' },
      ),
    ).toBe('/app');
    expect(sifCacheDir('apptainer', '/p', { cacheDir: { apptainer: '/a' } }, {})).toBe('/a');
    expect(sifCacheDir('apptainer', '/p', none, {})).toBe('/p/work/singularity');
  });

  it('are built with `build TARGET docker-daemon://DERIVATIVE`', () => {
    expect(sifBuildArgs(DERIVATIVE, '/c/x.sif')).toEqual(['build', '/c/x.sif', `docker-daemon://${DERIVATIVE}`]);
  });

  it('use the program on PATH: the engine asked for first, else the other', () => {
    const s = standIn('singularity');
    const a = standIn('apptainer');
    expect(findSifProgram(undefined, `${s.dir}:${a.dir}`)).toEqual({
      engine: 'singularity',
      program: join(s.dir, 'singularity'),
    });
    expect(findSifProgram('apptainer', `${s.dir}:${a.dir}`)).toEqual({
      engine: 'apptainer',
      program: join(a.dir, 'apptainer'),
    });
    expect(findSifProgram('apptainer', s.dir)).toEqual({ engine: 'singularity', program: join(s.dir, 'singularity') });
    expect(findSifProgram(undefined, tempDir('nfhot-empty-'))).toBeUndefined();
  });

  it('are written under a temporary name and renamed; a file already there is kept, not rebuilt', async () => {
    const program = standIn('singularity');
    const dir = join(tempDir('nfhot-sif-'), 'cache', 'singularity');
    const lines: string[] = [];
    const first = await buildSif(execaPrograms, join(program.dir, 'singularity'), DERIVATIVE, dir, (l) =>
      lines.push(l),
    );
    expect(first).toEqual({ path: join(dir, sifName(DERIVATIVE)), built: true });
    expect(readFileSync(first.path, 'utf8')).toBe('x');
    expect(readdirSync(dir)).toEqual([sifName(DERIVATIVE)]);
    const [call] = program.calls();
    expect(call).toEqual([
      'build',
      join(dir, `.${sifName(DERIVATIVE)}.${process.pid}.partial`),
      `docker-daemon://${DERIVATIVE}`,
    ]);
    expect(lines).toContain('INFO:    Creating SIF file...');
    expect(await buildSif(execaPrograms, join(program.dir, 'singularity'), DERIVATIVE, dir)).toEqual({
      path: first.path,
      built: false,
    });
    expect(program.calls()).toHaveLength(1);
  });

  it('fail with what the program said, leaving no file', async () => {
    const program = standIn(
      'apptainer',
      'echo "FATAL:   While performing build: conveyor failed to get: Error loading image" >&2; printf partial > "$2"; exit 255',
    );
    const dir = tempDir('nfhot-sif-');
    mkdirSync(dir, { recursive: true });
    const failure = buildSif(execaPrograms, join(program.dir, 'apptainer'), DERIVATIVE, dir);
    await expect(failure).rejects.toThrow(UserError);
    await expect(failure).rejects.toThrow(
      /could not build nfhot\.local-org-tool-dev-0123456789ab\.sif from nfhot\.local\/org\/tool:dev-0123456789ab: FATAL: +While performing build/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
