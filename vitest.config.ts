import { defineConfig } from 'vitest/config';

// Three projects: `unit` runs anywhere in seconds; `docker` runs against a real Docker daemon
// (fixture images are built once by its global setup and cached by content), its Nextflow tier
// under Nextflow 24.10.6; `podman` runs the core tests again against Podman's API service, which
// its global setup starts. Then the Nextflow tier again under 25.04.4, with each config parser
// (NXF_SYNTAX_PARSER): the tests that run the real Nextflow through nfhot's loop (docs: the
// Nextflow matrix says which, and why not the rest).
const NEXTFLOW_MATRIX = [
  'test/nextflow/example.docker.test.ts',
  'test/nextflow/nfcore.docker.test.ts',
  'test/nextflow/params.docker.test.ts',
  'test/nextflow/plugin.docker.test.ts',
  'test/nextflow/syntax.docker.test.ts',
];
const nextflow = (version: string, parser: 'v1' | 'v2', order: number) => ({
  test: {
    name: `nextflow-${version}-${parser}`,
    include: NEXTFLOW_MATRIX,
    globalSetup: ['test/setup/fixtures.ts'],
    setupFiles: ['test/setup/env.ts'],
    env: { NFHOT_TEST_NEXTFLOW: version, NXF_SYNTAX_PARSER: parser },
    testTimeout: 180_000,
    hookTimeout: 600_000,
    maxWorkers: 2,
    sequence: { groupOrder: order },
  },
});

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.docker.test.ts', 'test/**/*.podman.test.ts', 'test/**/*.cluster.test.ts'],
          setupFiles: ['test/setup/env.ts'],
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
      {
        // The core patch/rollback tests again, and Podman's own, against Podman's API service.
        test: {
          name: 'podman',
          include: [
            'test/commands/patch.docker.test.ts',
            'test/commands/rollback.docker.test.ts',
            'test/**/*.podman.test.ts',
          ],
          globalSetup: ['test/setup/podman.ts'],
          setupFiles: ['test/setup/env.ts', 'test/setup/podman-env.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          // One file at a time: Podman loses one of two names given to an image at once, and the
          // files' fixtureTag names the same fixture images.
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
      nextflow('25.04.4', 'v1', 3),
      nextflow('25.04.4', 'v2', 4),
      {
        // A real SLURM cluster of one node (test/helpers/cluster.ts), under Nextflow 24.10.6;
        // it says in its output why it does not run on a machine that cannot start it.
        test: {
          name: 'slurm',
          include: ['test/**/*.cluster.test.ts'],
          globalSetup: ['test/setup/fixtures.ts'],
          setupFiles: ['test/setup/env.ts'],
          testTimeout: 400_000,
          hookTimeout: 600_000,
          maxWorkers: 1,
          sequence: { groupOrder: 5 },
        },
      },
    ],
  },
});
