import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sifName } from '../../src/core/image/singularity.js';
import { nfhot } from '../helpers/cli.js';
import { fixtureTag, imageId } from '../helpers/docker.js';
import { writePipeline } from '../helpers/pipeline.js';
import { greetRepo, tempDir } from '../helpers/repos.js';

/** PATH with nothing of Singularity's: node, docker, git and the system's tools. */
const BASE_PATH = [
  dirname(process.execPath),
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
].join(':');

describe('nfhot patch --singularity', () => {
  it("builds the SIF file of the patch set from the daemon into Nextflow's cache directory; the include names it by path", async () => {
    // Singularity cannot be installed here: a stand-in that checks the image it is given is in the
    // daemon (as docker-daemon:// reads it from there), and writes the file.
    const bin = tempDir('nfhot-sif-bin-');
    writeFileSync(
      join(bin, 'singularity'),
      '#!/bin/sh\nset -e\necho "$@" >> "$(dirname "$0")/calls"\ndocker image inspect "${3#docker-daemon://}" --format "{{.Id}}" > "$2"\n',
    );
    chmodSync(join(bin, 'singularity'), 0o755);
    const cache = tempDir('nfhot-sif-cache-');
    const image = await fixtureTag('venv');
    const pipeline = writePipeline({ GREET: image });
    const repo = await greetRepo();
    const env = { PATH: `${bin}:${BASE_PATH}`, NXF_SINGULARITY_CACHEDIR: cache };

    const result = await nfhot(
      ['patch', `git+${repo.url}@feature`, '--pipeline', pipeline, '--singularity', '--json'],
      { env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const { images, sif } = JSON.parse(result.stdout);
    const derivative = images[0].derivative as string;
    const path = join(cache, sifName(derivative));
    expect(sif).toEqual([{ image, path, built: true }]);
    expect(readFileSync(path, 'utf8').trim()).toBe(await imageId(derivative));
    expect(readFileSync(join(bin, 'calls'), 'utf8')).toMatch(
      new RegExp(
        `^build ${cache}/\\.${sifName(derivative).replace(/\./g, '\\.')}\\.\\d+\\.partial docker-daemon://${derivative.replace(/\./g, '\\.')}\n$`,
      ),
    );
    const include = readFileSync(join(pipeline, 'nfhot.config'), 'utf8');
    expect(include).toContain(
      `['docker', 'podman'] ? '${derivative}' : workflow.containerEngine in ['singularity', 'apptainer'] ? '${path}' : '${image}'`,
    );

    // The same patch set again: the file is kept; `nfhot config` finds it too.
    const again = await nfhot(['patch', `git+${repo.url}@feature`, '--pipeline', pipeline, '--singularity', '--json'], {
      env,
    });
    expect(JSON.parse(again.stdout).sif).toEqual([{ image, path, built: false }]);
    expect(readFileSync(join(bin, 'calls'), 'utf8').trim().split('\n')).toHaveLength(1);
    writeFileSync(join(pipeline, 'nfhot.config'), '// stale\n');
    const config = await nfhot(['config', '--pipeline', pipeline], { env: { NXF_SINGULARITY_CACHEDIR: cache } });
    expect(config.exitCode, config.stderr).toBe(0);
    expect(readFileSync(join(pipeline, 'nfhot.config'), 'utf8')).toBe(include);
  });

  it('fails before changing anything when neither singularity nor apptainer is on PATH', async () => {
    const image = await fixtureTag('venv');
    const before = await imageId(image);
    const repo = await greetRepo();
    const result = await nfhot(['patch', `git+${repo.url}@feature`, '--image', image, '--singularity'], {
      env: { PATH: BASE_PATH },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      'nfhot: error: --singularity needs singularity or apptainer on PATH, and neither is',
    );
    expect(result.stderr).toContain('hint: install Apptainer or SingularityCE');
    expect(await imageId(image)).toBe(before);
  });
});
