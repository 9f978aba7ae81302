import { defineConfig } from 'vitest/config';

// Two projects: `unit` runs anywhere in seconds; `docker` runs against a real Docker daemon
// (fixture images are built once by its global setup and cached by content).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.docker.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'docker',
          include: ['test/**/*.docker.test.ts'],
          globalSetup: ['test/setup/fixtures.ts'],
          setupFiles: ['test/setup/env.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          // Two cores: more parallel files only queue on the daemon.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
