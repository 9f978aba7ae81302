import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { TestProject } from 'vitest/node';

export const BASE = 'nfhot/debian-python:bookworm';
const FIXTURES = 'test/fixtures';

declare module 'vitest' {
  export interface ProvidedContext {
    images: Record<string, string>;
  }
}

function hashTree(dir: string, h = createHash('sha256')): ReturnType<typeof createHash> {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) hashTree(path, h.update(`d:${entry}\0`));
    else h.update(`f:${entry}\0`).update(readFileSync(path));
  }
  return h;
}

async function exists(image: string): Promise<boolean> {
  return execa('docker', ['image', 'inspect', image]).then(() => true, () => false);
}

/**
 * Builds the fixture images once: the Debian base (debootstrap, cached by name) and one image per
 * Dockerfile under test/fixtures/images, named by a hash of everything that goes into it.
 */
export default async function setup(project: TestProject): Promise<void> {
  await execa('docker', ['info']).catch(() => {
    throw new Error('no Docker daemon: run scripts/setup.sh (as root) first');
  });
  await execa('bash', ['scripts/base-image.sh', BASE], { stderr: 'inherit' });
  const { stdout: baseId } = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', BASE]);
  const content = hashTree(join(FIXTURES, 'greet')).digest('hex');
  const images: Record<string, string> = {};
  for (const file of readdirSync(join(FIXTURES, 'images'))) {
    const name = file.replace(/\.Dockerfile$/, '');
    const dockerfile = join(FIXTURES, 'images', file);
    const tag = createHash('sha256').update(baseId).update(content).update(readFileSync(dockerfile)).digest('hex').slice(0, 16);
    const image = `nfhot-fixture/${name}:${tag}`;
    if (!(await exists(image))) {
      await execa('docker', ['build', '-q', '--build-arg', `BASE=${BASE}`, '-f', dockerfile, '-t', image, FIXTURES], { env: { DOCKER_BUILDKIT: '0' } });
    }
    images[name] = image;
  }
  project.provide('images', images);
}
