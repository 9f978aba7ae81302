import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine, ImageInfo, RunOptions, RunResult } from '../ports/engine.js';
import { probePy, probeSh } from '../base/assets.js';
import { cacheDir } from '../base/dirs.js';
import { UserError } from '../base/errors.js';
import { holderLabels, throwawayName } from '../image/lock.js';
import { parseProbe, type PythonEnv } from './python.js';
import { hashHex } from '../image/reference.js';
import { writeFileAtomic } from '../base/util.js';

/** An entrypoint that does not hand on its arguments (a server, say) is given this long. */
const ENTRYPOINT_TIMEOUT_MS = 20_000;

const hasEntrypoint = (image: ImageInfo) =>
  Array.isArray(image.config.Entrypoint) ? image.config.Entrypoint.length > 0 : Boolean(image.config.Entrypoint);

/**
 * Lists an image's Python environments by running probe.sh in a throwaway container. An image
 * with an entrypoint is probed through it, as its user, the way a task runs there: an
 * environment that only the entrypoint activates is then on PATH. When that says nothing (the
 * entrypoint fails, or does not run its arguments), the probe runs again as root without it.
 * An image ID names immutable content, so the answer is cached per (image, question).
 */
export async function probeImage(
  engine: Engine,
  image: ImageInfo,
  name: string,
  dist: string | undefined,
  python: string | undefined,
): Promise<PythonEnv[]> {
  const file = join(
    cacheDir(),
    'probe',
    `${image.id.replace(/^sha256:/, '')}-${hashHex(dist ?? '', python ?? '', probeSh(), probePy()).slice(0, 16)}.json`,
  );
  try {
    return JSON.parse(await readFile(file, 'utf8')) as PythonEnv[];
  } catch {
    /* not probed yet */
  }
  const argv = ['/bin/sh', '-c', probeSh(), 'nfhot-probe', dist ?? '', python ?? '', probePy()];
  const run = (options: Partial<RunOptions>) =>
    engine.run(image.id, argv, { name: throwawayName('probe'), labels: holderLabels(), ...options });
  let result: RunResult | undefined;
  if (hasEntrypoint(image)) {
    result = await run({ entrypoint: true, timeoutMs: ENTRYPOINT_TIMEOUT_MS });
    if (result.exitCode !== 0 || !parseProbe(result.stdout).envs.length) result = undefined;
  }
  result ??= await run({ user: '0' });
  if (result.exitCode !== 0) {
    throw new UserError(
      `cannot look for Python in ${name}: the probe exited with ${result.exitCode}`,
      'the image needs /bin/sh (Nextflow needs /bin/bash too)',
      result.stderr,
    );
  }
  const { envs, explicitMissing } = parseProbe(result.stdout);
  if (explicitMissing)
    throw new UserError(
      `${python} does not exist in ${name}`,
      'give the path of a Python interpreter inside the image',
    );
  await mkdir(join(cacheDir(), 'probe'), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(envs));
  return envs;
}
