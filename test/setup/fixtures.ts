import type { TestProject } from 'vitest/node';
import { buildFixtureImages, buildPypiImages } from '../fixtures/images.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    images: Record<string, string>;
    /** The wheelhouse of real packages from PyPI (its wheels, and its sources under sdists/). */
    wheelhouse: string;
  }
}

/** Builds (or finds, cached) the fixture images, those of real packages from PyPI too, and hands their names to the Docker tests. */
export default async function setup(project: TestProject): Promise<void> {
  const images = await buildFixtureImages({ dev: true });
  const pypi = await buildPypiImages();
  project.provide('images', { ...images, ...pypi.images });
  project.provide('wheelhouse', pypi.wheelhouse);
}
