import type { TestProject } from 'vitest/node';
import { buildFixtureImages } from '../fixtures/images.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    images: Record<string, string>;
  }
}

/** Builds (or finds, cached) the fixture images and hands their names to the Docker tests. */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('images', (await buildFixtureImages()) as Record<string, string>);
}
