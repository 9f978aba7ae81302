import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from './ports/engine.js';
import { probePy, probeSh } from './assets.js';
import { cacheDir } from './dirs.js';
import { UserError } from './errors.js';
import { holderLabels, throwawayName } from './lock.js';
import { parseProbe, type PythonEnv } from './python.js';
import { hashHex } from './reference.js';
import { writeFileAtomic } from './util.js';

/**
 * Lists an image's Python environments by running probe.sh in a throwaway container.
 * An image ID names immutable content, so the answer is cached per (image, question).
 */
export async function probeImage(engine: Engine, imageId: string, image: string, dist: string | undefined, python: string | undefined): Promise<PythonEnv[]> {
  const file = join(cacheDir(), 'probe', `${imageId.replace(/^sha256:/, '')}-${hashHex(dist ?? '', python ?? '', probeSh(), probePy()).slice(0, 16)}.json`);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as PythonEnv[];
  } catch {
    /* not probed yet */
  }
  const result = await engine.run(imageId, ['/bin/sh', '-c', probeSh(), 'nfhot-probe', dist ?? '', python ?? '', probePy()], {
    user: '0',
    name: throwawayName('probe'),
    labels: holderLabels(),
  });
  if (result.exitCode !== 0) {
    throw new UserError(`cannot look for Python in ${image}: the probe exited with ${result.exitCode}`, 'the image needs /bin/sh (Nextflow needs /bin/bash too)', result.stderr);
  }
  const { envs, explicitMissing } = parseProbe(result.stdout);
  if (explicitMissing) throw new UserError(`${python} does not exist in ${image}`, 'give the path of a Python interpreter inside the image');
  await mkdir(join(cacheDir(), 'probe'), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(envs));
  return envs;
}
