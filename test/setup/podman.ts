import type { TestProject } from 'vitest/node';
import { buildFixtureImages } from '../fixtures/images.mjs';
import { startPodman } from '../helpers/podman.js';
import { startRegistry } from '../helpers/registry.js';

declare module 'vitest' {
  export interface ProvidedContext {
    podman: { host: string; registry: string; cli: { options: string[]; env: Record<string, string> } };
  }
}

/**
 * For the tests run against Podman: its API service with the fixture images loaded (built by
 * Docker, cached as for the Docker tests), and a registry it may push to over plain HTTP.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const images = (await buildFixtureImages()) as Record<string, string>;
  const registry = await startRegistry({ seconds: 1800 });
  const podman = await startPodman({ insecure: [registry.host] });
  await podman.load(Object.values(images));
  project.provide(
    'images',
    Object.fromEntries(Object.entries(images).map(([name, image]) => [name, `localhost/${image}`])),
  );
  project.provide('podman', { host: podman.host, registry: registry.host, cli: podman.cli });
  return async () => {
    await podman.stop();
    await registry.stop();
  };
}
