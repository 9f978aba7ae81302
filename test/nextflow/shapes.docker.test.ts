// Pipelines in the shapes a new user's nf-core pipelines have, read by nfhot and by the real
// Nextflow (`nextflow inspect`): both must say the same container for every process, under each
// profile list, or nfhot says it cannot know (a container chosen per task).
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { expectNfhotReadsAsNextflowInspects, NEXTFLOW_ENV, nextflowBin } from '../helpers/nextflow.js';
import { tempDir } from '../helpers/repos.js';

// A copy: Nextflow leaves .nextflow/ and its log where it runs.
const SHAPES = join(tempDir(), 'shapes');
cpSync('test/fixtures/pipelines/shapes', SHAPES, { recursive: true });
const ILLUMINA = 'NFCORE_SHAPES:ILLUMINA';
const DYNAMIC = { [`${ILLUMINA}:DYNAMIC`]: /^it depends on task\.attempt \(known per task\)$/ };

describe('pipelines read as the real Nextflow reads them', () => {
  it.each([
    // An if/else container (older nf-core modules), a task.ext.use_gpu choice left off, includes inside `if (params.platform …)`.
    [
      'docker',
      {
        [`${ILLUMINA}:LEGACY`]: 'quay.io/biocontainers/legacy:1.0--0',
        [`${ILLUMINA}:TOOL_GPU`]: 'quay.io/biocontainers/tool:1.0--0',
      },
    ],
    // The gpu profile sets ext.use_gpu through a closure over workflow.profile.
    ['docker,gpu', { [`${ILLUMINA}:TOOL_GPU`]: 'nvcr.io/nvidia/tool:1.0-gpu' }],
    // A profile's config closure that depends only on the engine (rnaseq's arm64 profile is written so).
    ['docker,arm64', { [`${ILLUMINA}:SEQSTATS`]: 'community.wave.seqera.io/library/seqstats:1.0--arm64' }],
    // A profile setting the param the includes depend on: the other workflow's MULTIQC, from another file.
    [
      'docker,nanopore',
      { 'NFCORE_SHAPES:NANOPORE:MULTIQC': 'community.wave.seqera.io/library/multiqc:1.25--nanopore' },
    ],
    // Singularity runs the if/else's other branch, and names as the pipeline gives them (no docker.registry).
    [
      'singularity',
      {
        [`${ILLUMINA}:LEGACY`]: 'https://depot.galaxyproject.org/singularity/legacy:1.0--0',
        [`${ILLUMINA}:SEQSTATS`]: 'biocontainers/seqstats:1.0--0',
      },
    ],
    // Podman with its own registry setting.
    ['podman', { [`${ILLUMINA}:SEQSTATS`]: 'quay.io/biocontainers/seqstats:1.0--0' }],
  ])(
    '-profile %s',
    async (profiles, some) => {
      const unknown = profiles.includes('nanopore') ? {} : DYNAMIC;
      const { runs } = await expectNfhotReadsAsNextflowInspects(SHAPES, profiles, unknown);
      for (const [p, image] of Object.entries(some)) expect(runs.find((r) => r.process === p)?.container).toBe(image);
    },
    120_000,
  );

  it('lists included processes that are never called as such, and refuses an unknown profile as Nextflow does', async () => {
    const read = await nfhot(['config', '--dry-run', '--pipeline', SHAPES, '--profile', 'docker'], {
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    expect(read.exitCode, read.stderr).toBe(0);
    expect(read.stderr).toContain('the pipeline as nfhot reads it, not what is patched');
    expect(read.stdout).toMatch(/^UNUSED\s+local\s+quay\.io\/biocontainers\/unused:1--0 {2}\(not called\)$/m);
    expect(read.stdout).toMatch(
      /^MULTIQC\s+local\s+community\.wave\.seqera\.io\/library\/multiqc:1\.25--nanopore {2}\(not called\)$/m,
    );
    expect(read.stdout).toMatch(
      new RegExp(`^${ILLUMINA}:DYNAMIC\\s+local\\s+\\? it depends on task\\.attempt \\(known per task\\)`, 'm'),
    );

    const theirs = await execa(nextflowBin(), ['config', '-profile', 'dockr', '.'], {
      cwd: SHAPES,
      env: NEXTFLOW_ENV,
      reject: false,
    });
    expect(theirs.exitCode).not.toBe(0);
    expect(theirs.stdout + theirs.stderr).toContain("Unknown configuration profile: 'dockr'");
    const mine = await nfhot(['config', '--dry-run', '--pipeline', SHAPES, '--profile', 'dockr']);
    expect(mine.exitCode).toBe(2);
    expect(mine.stderr).toContain("Unknown configuration profile: 'dockr'");
    expect(mine.stderr).toContain('did you mean one of these? docker');
    // An empty profile block is a profile (Nextflow accepts it), and `standard` always is.
    for (const p of ['docker,test', 'standard'])
      expect((await nfhot(['config', '--dry-run', '--pipeline', SHAPES, '--profile', p])).exitCode).toBe(0);
  }, 120_000);
});
