// nf-hot, nfhot's Nextflow plugin, under the real Nextflow: with no include and no -c, every task
// whose image nfhot patched runs the patch (the container Nextflow computed, looked up at run
// time), -resume reruns exactly those tasks, a rollback brings the original's results back, and
// a run with nothing patched hashes every task as a run without the plugin does.
import { appendFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { cleanupRepo, docker } from '../helpers/docker.js';
import {
  EXAMPLE,
  exampleImages,
  buildExampleImage,
  copyPipeline,
  definitions,
  hashes,
  inspect,
  installWaveStandIn,
  NEXTFLOW_ENV,
  nextflowRun,
  PLUGIN,
  seqstatsRepo,
  statuses,
  type TraceRow,
  warnings,
} from '../helpers/nextflow.js';
import { tempDir } from '../helpers/repos.js';
import { startRegistry } from '../helpers/registry.js';
import { BASE } from '../fixtures/images.mjs';

const PREFIX = `nfhot-test-${randomBytes(5).toString('hex')}`;
const { SEQSTATS, COREUTILS } = exampleImages(PREFIX);
const { GC, UPPER, VERSION, LINES } = EXAMPLE;

const RUNTIME = { PARAMS: 'FROM_PARAMS', EXT: 'FROM_EXT', PROFILE: 'FROM_PROFILE' } as const;

/** A copy of the pipeline whose containers are only known at run time (test/fixtures/pipelines/runtime). */
function runtimePipeline(): string {
  const dir = join(tempDir(), 'runtime');
  cpSync('test/fixtures/pipelines/runtime', dir, { recursive: true });
  return dir;
}

const containers = (rows: TraceRow[]) => Object.fromEntries(rows.map((r) => [r.process, r.container]));

describe('nf-hot, the Nextflow plugin', () => {
  beforeAll(async () => {
    await buildExampleImage(SEQSTATS, BASE);
    await docker('tag', BASE, COREUTILS);
    const installed = await nfhot(['plugin', 'install', '--nxf-home', NEXTFLOW_ENV.NXF_HOME]);
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stdout.trim().split('\n').at(-1)).toBe(PLUGIN);
    return () => cleanupRepo(`quay.io/${PREFIX}`);
  }, 300_000);

  it('the example pipeline with no include: the same hashes as without the plugin while nothing is patched, the patch in exactly the patched tasks, the original back after a rollback', async () => {
    const dir = copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` }, { untouched: true });
    const repo = await seqstatsRepo();
    const run = (...args: string[]) => nextflowRun(dir, ['-profile', 'docker', ...args]);

    const plain = await run();
    expect(statuses(plain.rows), plain.all).toEqual({
      [LINES]: ['COMPLETED'],
      [GC]: ['FAILED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    // Nothing patched: the plugin changes no container and no hash.
    const unpatched = await run('-plugins', PLUGIN, '-resume');
    expect(statuses(unpatched.rows), unpatched.all).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['FAILED'],
      [UPPER]: ['CACHED'],
      [VERSION]: ['CACHED'],
    });
    expect(hashes(unpatched.rows, [GC])).toEqual(hashes(plain.rows, [GC]));
    expect(containers(unpatched.rows)).toEqual(containers(plain.rows));
    expect(unpatched.log()).toContain('Plugin started nf-hot@');

    // Patched from elsewhere, with no pipeline: no include is written or read.
    const patched = await nfhot(['patch', `git+file://${repo}@fix-lowercase`, '--image', SEQSTATS], { cwd: tempDir() });
    expect(patched.exitCode, patched.stderr).toBe(0);
    const fix = patched.stdout.trim();
    const second = await run('-plugins', PLUGIN, '-resume');
    expect(second.exitCode, second.all).toBe(0);
    expect(statuses(second.rows), second.all).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['COMPLETED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    expect(containers(second.rows)).toEqual({ [LINES]: COREUTILS, [GC]: fix, [UPPER]: fix, [VERSION]: fix });
    expect(readFileSync(join(dir, 'results/seqstats_gc/sequences.gc.tsv'), 'utf8')).toContain('ACGTacgt\tGC=0.50');
    expect(second.log()).toContain(`nf-hot: ${SEQSTATS} is patched (seqstats 1.0.1): its tasks run ${fix}`);

    // The same patch: nothing reruns.
    const third = await run('-plugins', PLUGIN, '-resume');
    expect(statuses(third.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['CACHED'],
      [UPPER]: ['CACHED'],
      [VERSION]: ['CACHED'],
    });

    // Rolled back: the first run's tasks, by their hashes, and the original's container.
    expect((await nfhot(['rollback', SEQSTATS], { cwd: tempDir() })).exitCode).toBe(0);
    const fourth = await run('-plugins', PLUGIN, '-resume');
    expect(statuses(fourth.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['FAILED'],
      [UPPER]: ['CACHED'],
      [VERSION]: ['CACHED'],
    });
    expect(hashes(fourth.rows, [GC])).toEqual(hashes(plain.rows, [GC]));
    expect(containers(fourth.rows)).toEqual(containers(plain.rows));
  });

  it("containers only known at run time (a param from the command line, a config closure over task.ext from the input, a profile's choice from the environment): nfhot's static reading cannot tell them, the plugin routes them all", async () => {
    const dir = runtimePipeline();
    const read = await nfhot(['config', '--dry-run', '--json', '--pipeline', dir, '--profile', 'docker,site']);
    expect(read.exitCode, read.stderr).toBe(0);
    expect((JSON.parse(read.stdout) as { runs: { process: string; unknown?: string }[] }).runs).toEqual([
      { process: RUNTIME.PARAMS, unknown: expect.stringMatching(/params\.org/), executor: 'local' },
      { process: RUNTIME.EXT, unknown: expect.stringMatching(/task\.tag/), executor: 'local' },
      { process: RUNTIME.PROFILE, unknown: expect.stringMatching(/System/), executor: 'local' },
    ]);
    // Told the run's param, nfhot reads what it selects.
    const told = await nfhot([
      'config',
      '--dry-run',
      '--json',
      '--pipeline',
      dir,
      '--profile',
      'docker,site',
      '--param',
      `org=${PREFIX}`,
    ]);
    expect((JSON.parse(told.stdout) as { runs: { process: string; container?: string }[] }).runs[0]).toEqual({
      process: RUNTIME.PARAMS,
      container: SEQSTATS,
      executor: 'local',
    });
    const run = (...args: string[]) =>
      nextflowRun(dir, ['-profile', 'docker,site', '--org', PREFIX, '-plugins', PLUGIN, ...args], {
        env: { SITE_SEQSTATS_TAG: '1.0.0--nfhot0' },
      });
    const first = await run();
    expect(statuses(first.rows), first.all).toEqual({
      [RUNTIME.PARAMS]: ['FAILED'],
      [RUNTIME.EXT]: ['COMPLETED'],
      [RUNTIME.PROFILE]: ['COMPLETED'],
    });
    expect(new Set(first.rows.map((r) => r.container))).toEqual(new Set([SEQSTATS]));

    const patched = await nfhot(['patch', `git+file://${await seqstatsRepo()}@fix-lowercase`, '--image', SEQSTATS], {
      cwd: tempDir(),
    });
    expect(patched.exitCode, patched.stderr).toBe(0);
    const fix = patched.stdout.trim();
    const second = await run('-resume');
    expect(statuses(second.rows), second.all).toEqual({
      [RUNTIME.PARAMS]: ['COMPLETED'],
      [RUNTIME.EXT]: ['COMPLETED'],
      [RUNTIME.PROFILE]: ['COMPLETED'],
    });
    expect(new Set(second.rows.map((r) => r.container))).toEqual(new Set([fix]));
    expect(readFileSync(join(dir, 'results', RUNTIME.PARAMS, 'gc.tsv'), 'utf8')).toContain('ACGTacgt\tGC=0.50');
    expect(readFileSync(join(dir, 'results', RUNTIME.PROFILE, 'versions.yml'), 'utf8')).toBe('seqstats: 1.0.1\n');

    // Rolled back: the original's results come back by their hashes.
    expect((await nfhot(['rollback', SEQSTATS], { cwd: tempDir() })).exitCode).toBe(0);
    const third = await run('-resume');
    expect(statuses(third.rows)).toEqual({
      [RUNTIME.PARAMS]: ['FAILED'],
      [RUNTIME.EXT]: ['CACHED'],
      [RUNTIME.PROFILE]: ['CACHED'],
    });
    expect(hashes(third.rows, [RUNTIME.PARAMS])).toEqual(hashes(first.rows, [RUNTIME.PARAMS]));
  });

  it('the include and the plugin in one run give what either gives alone', async () => {
    const assets = copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` }, { untouched: true });
    const launch = tempDir();
    const include = join(launch, 'nfhot.config');
    const run = (...args: string[]) => nextflowRun(assets, ['-profile', 'docker', ...args], { launch });
    const patched = await nfhot(
      ['patch', `git+file://${await seqstatsRepo()}@fix-lowercase`, '--pipeline', assets, '--include', include],
      { cwd: launch },
    );
    expect(patched.exitCode, patched.stderr).toBe(0);
    const fix = patched.stdout.trim();
    try {
      const included = await run('-c', include);
      expect(statuses(included.rows), included.all).toEqual({
        [LINES]: ['COMPLETED'],
        [GC]: ['COMPLETED'],
        [UPPER]: ['COMPLETED'],
        [VERSION]: ['COMPLETED'],
      });
      expect(containers(included.rows)).toEqual({ [LINES]: COREUTILS, [GC]: fix, [UPPER]: fix, [VERSION]: fix });
      // The plugin alone, then both: the same containers, the same hashes, so every task is cached.
      for (const args of [
        ['-plugins', PLUGIN],
        ['-c', include, '-plugins', PLUGIN],
      ]) {
        const again = await run(...args, '-resume');
        expect(statuses(again.rows), again.all).toEqual({
          [LINES]: ['CACHED'],
          [GC]: ['CACHED'],
          [UPPER]: ['CACHED'],
          [VERSION]: ['CACHED'],
        });
        expect(containers(again.rows)).toEqual(containers(included.rows));
        expect(hashes(again.rows)).toEqual(hashes(included.rows));
      }
    } finally {
      expect((await nfhot(['rollback', SEQSTATS], { cwd: launch })).exitCode).toBe(0);
    }
  });

  it('never breaks a run: an unreachable daemon, labels of a newer nfhot, an engine it does not know → one warning and the container Nextflow computed', async () => {
    const dir = copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` }, { untouched: true });
    const patched = await nfhot(['patch', `git+file://${await seqstatsRepo()}@fix-lowercase`, '--image', SEQSTATS], {
      cwd: tempDir(),
    });
    expect(patched.exitCode, patched.stderr).toBe(0);
    const fix = patched.stdout.trim();
    const newer = `${COREUTILS.replace(/:.*/, '')}:newer-nfhot`;
    try {
      const routed = await inspect(dir, ['-profile', 'docker']);
      expect(routed.containers).toEqual(definitions({ [LINES]: COREUTILS, [GC]: fix, [UPPER]: fix, [VERSION]: fix }));
      expect(warnings(routed.log)).toEqual([]);

      // The daemon cannot be reached: every task keeps its container, said once.
      const unreachable = await inspect(dir, ['-profile', 'docker'], {
        DOCKER_HOST: 'unix:///nonexistent/docker.sock',
      });
      expect(unreachable.containers).toEqual(
        definitions({ [LINES]: COREUTILS, [GC]: SEQSTATS, [UPPER]: SEQSTATS, [VERSION]: SEQSTATS }),
      );
      expect(warnings(unreachable.log)).toEqual([
        expect.stringMatching(
          /nf-hot: cannot read what nfhot patched from `docker`: .*Cannot connect to the Docker daemon.*; tasks run the containers Nextflow named$/,
        ),
      ]);

      // An image with labels of a schema this plugin does not read: that image as it is, the others routed.
      await execa(
        'sh',
        [
          '-c',
          `printf 'FROM ${COREUTILS}\\nLABEL io.nfhot.schema=2 io.nfhot.image=${COREUTILS}\\n' | docker build -q -t ${newer} -`,
        ],
        { env: { DOCKER_BUILDKIT: '0' } },
      );
      await docker('tag', COREUTILS, `${COREUTILS}-kept`);
      await docker('tag', newer, COREUTILS);
      const later = await inspect(dir, ['-profile', 'docker']);
      expect(later.containers).toEqual(definitions({ [LINES]: COREUTILS, [GC]: fix, [UPPER]: fix, [VERSION]: fix }));
      expect(warnings(later.log)).toEqual([
        expect.stringMatching(
          new RegExp(
            `nf-hot: ${COREUTILS.replace(/[.]/g, '\\.')} was patched by an nfhot whose labels \\(schema 2\\) this nf-hot cannot read`,
          ),
        ),
      ]);

      // An engine the plugin does not know: Nextflow's own container, said once.
      const other = join(tempDir(), 'charliecloud.config');
      writeFileSync(other, 'docker.enabled = false\ncharliecloud.enabled = true\n');
      const unknown = await inspect(dir, ['-c', other]);
      expect(unknown.containers.SEQSTATS_GC).toBe(`${PREFIX}/seqstats:1.0.0--nfhot0`);
      expect(warnings(unknown.log)).toEqual([
        expect.stringMatching(/nf-hot: the charliecloud engine is not one nf-hot knows/),
      ]);
    } finally {
      await docker('tag', `${COREUTILS}-kept`, COREUTILS).catch(() => undefined);
      await docker('rmi', `${COREUTILS}-kept`, newer).catch(() => undefined);
      expect((await nfhot(['rollback', SEQSTATS], { cwd: tempDir() })).exitCode).toBe(0);
    }
  });

  it("Singularity and Apptainer: the patch set's SIF file when nfhot built one in Nextflow's cache directory, else the pushed patch by digest, else the original and a warning", async () => {
    const dir = runtimePipeline();
    const registry = await startRegistry();
    const patched = await nfhot(['patch', `git+file://${await seqstatsRepo()}@fix-lowercase`, '--image', SEQSTATS], {
      cwd: tempDir(),
    });
    expect(patched.exitCode, patched.stderr).toBe(0);
    const fix = patched.stdout.trim();
    try {
      const args = ['-profile', 'singularity,site', '--org', PREFIX];
      // (inspect runs no task: FROM_EXT's container, made from its input, is not known to it.)
      const known = (c: Record<string, string>) => ({
        [RUNTIME.PARAMS]: c[RUNTIME.PARAMS],
        [RUNTIME.PROFILE]: c[RUNTIME.PROFILE],
      });
      const without = await inspect(dir, args);
      expect(known(without.containers)).toEqual({ [RUNTIME.PARAMS]: SEQSTATS, [RUNTIME.PROFILE]: SEQSTATS });
      expect(warnings(without.log)).toEqual([
        expect.stringMatching(
          new RegExp(
            `nf-hot: ${SEQSTATS.replace(/[.]/g, '\\.')} is patched \\(seqstats 1\\.0\\.1\\), but nfhot built no singularity image of the patch in ${join(dir, 'work', 'singularity')}: its tasks run the original`,
          ),
        ),
      ]);

      // The file `nfhot patch --singularity` builds (its name: src/core/image/singularity.ts's sifName).
      const cache = join(dir, 'work', 'singularity');
      mkdirSync(cache, { recursive: true });
      const sif = join(cache, `${fix.replace(/[:/]/g, '-')}.sif`);
      writeFileSync(sif, 'not a real SIF: inspect runs nothing');
      const withSif = await inspect(dir, args);
      expect(known(withSif.containers)).toEqual({ [RUNTIME.PARAMS]: sif, [RUNTIME.PROFILE]: sif });
      expect(warnings(withSif.log)).toEqual([]);

      // Pushed, with no SIF file here: the registry's copy by digest, which Nextflow pulls and converts.
      rmSync(sif);
      const pushed = await nfhot(['push', SEQSTATS, '--to', registry.host, '--json'], { cwd: tempDir() });
      expect(pushed.exitCode, pushed.stderr).toBe(0);
      const reference = (JSON.parse(pushed.stdout) as { images: { reference: string }[] }).images[0]!.reference;
      const pulled = await inspect(dir, args);
      expect(known(pulled.containers)).toEqual({
        [RUNTIME.PARAMS]: `docker://${reference}`,
        [RUNTIME.PROFILE]: `docker://${reference}`,
      });
      expect(warnings(pulled.log)).toEqual([]);
    } finally {
      expect((await nfhot(['rollback', SEQSTATS], { cwd: tempDir() })).exitCode).toBe(0);
      await registry.stop();
    }
  });

  it('--keep-tag and pushed patches are honoured as the include honours them: the registry copy by digest; a rollback leaves no active patch, even with a container still on the derivative', async () => {
    const dir = copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` }, { untouched: true });
    const registry = await startRegistry();
    const original = await docker('image', 'inspect', '--format', '{{.Id}}', SEQSTATS);
    let container: string | undefined;
    try {
      const patched = await nfhot(
        [
          'patch',
          `git+file://${await seqstatsRepo()}@fix-lowercase`,
          '--image',
          SEQSTATS,
          '--keep-tag',
          '--push',
          registry.host,
        ],
        { cwd: tempDir() },
      );
      expect(patched.exitCode, patched.stderr).toBe(0);
      expect(await docker('image', 'inspect', '--format', '{{.Id}}', SEQSTATS)).toBe(original); // the tag kept
      // What the include gives these processes: the registry's copy, pinned by digest.
      const read = await nfhot(['config', '--dry-run', '--json', '--pipeline', dir, '--profile', 'docker']);
      const [override] = (JSON.parse(read.stdout) as { include: { overrides: { reference: string }[] } }).include
        .overrides;
      expect(override!.reference).toMatch(
        new RegExp(`^${registry.host.replace(/[.]/g, '\\.')}/.*@sha256:[0-9a-f]{64}$`),
      );
      const routed = await inspect(dir, ['-profile', 'docker']);
      expect(routed.containers).toEqual(
        definitions({
          [LINES]: COREUTILS,
          [GC]: override!.reference,
          [UPPER]: override!.reference,
          [VERSION]: override!.reference,
        }),
      );

      const ran = await nextflowRun(dir, ['-profile', 'docker', '-plugins', PLUGIN]);
      expect(statuses(ran.rows), ran.all).toEqual({
        [LINES]: ['COMPLETED'],
        [GC]: ['COMPLETED'],
        [UPPER]: ['COMPLETED'],
        [VERSION]: ['COMPLETED'],
      });

      expect((await nfhot(['rollback', SEQSTATS], { cwd: tempDir() })).exitCode).toBe(0);

      // Not pushed, and a container still made from the derivative: the rollback cannot remove
      // it, and what is left of it names no active patch.
      const local = await nfhot(
        ['patch', `git+file://${await seqstatsRepo()}@fix-lowercase`, '--image', SEQSTATS, '--keep-tag'],
        { cwd: tempDir() },
      );
      expect(local.exitCode, local.stderr).toBe(0);
      container = await docker('create', local.stdout.trim());
      expect((await inspect(dir, ['-profile', 'docker'])).containers.SEQSTATS_GC).toBe(local.stdout.trim());
      expect((await nfhot(['rollback', SEQSTATS], { cwd: tempDir() })).exitCode).toBe(0);
      const rolledBack = await inspect(dir, ['-profile', 'docker']);
      expect(rolledBack.containers).toEqual(
        definitions({ [LINES]: COREUTILS, [GC]: SEQSTATS, [UPPER]: SEQSTATS, [VERSION]: SEQSTATS }),
      );
    } finally {
      if (container) await docker('rm', container);
      await nfhot(['rollback', SEQSTATS], { cwd: tempDir() });
      await registry.stop();
    }
  });

  it("Wave on: a pushed patch goes to Wave, unless Wave's strategy builds the task from its conda environment; a patch only in the local daemon runs directly; nfhot config says the same", async () => {
    const dir = copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` }, { untouched: true });
    const home = tempDir();
    expect((await nfhot(['plugin', 'install', '--nxf-home', home])).exitCode).toBe(0);
    // What is tested is nf-hot's choice, not Wave's (installWaveStandIn).
    await installWaveStandIn(home);
    const env = { NXF_HOME: home, NXF_OFFLINE: 'true' };
    // Wave with conda first, and a conda environment for process SEQSTATS_GC (withName matches its declared name: both of its aliases).
    appendFileSync(
      join(dir, 'nextflow.config'),
      "\nprofiles {\n    wave {\n        wave.enabled = true\n        wave.strategy = 'conda,container'\n    }\n}\nprocess {\n    withName: 'SEQSTATS_GC' {\n        conda = 'bioconda::seqstats=1.0.0'\n    }\n}\n",
    );
    const args = ['-profile', 'docker,wave'];
    const registry = await startRegistry();
    try {
      const local = await nfhot(['patch', `git+file://${await seqstatsRepo()}@fix-lowercase`, '--image', SEQSTATS], {
        cwd: tempDir(),
      });
      expect(local.exitCode, local.stderr).toBe(0);
      const fix = local.stdout.trim();
      const direct = await inspect(dir, args, env);
      expect(direct.containers).toEqual(definitions({ [LINES]: COREUTILS, [GC]: fix, [UPPER]: fix, [VERSION]: fix }));
      expect(warnings(direct.log)).toEqual([
        expect.stringMatching(
          /nf-hot: Wave is on, and the Wave service cannot pull .* run .* directly, not through Wave \(nfhot push it/,
        ),
      ]);
      const said = await nfhot(['config', '--dry-run', '--pipeline', dir, '--profile', 'docker,wave']);
      expect(said.stdout).toMatch(
        new RegExp(
          `with nf-hot, the plugin, and no include:\n(  .*\n){0,3}  ${GC}\\s+runs ${fix.replace(/[.]/g, '\\.')} directly, not through Wave \\(which stays on for the other tasks\\): the Wave service cannot pull`,
        ),
      );

      const pushed = await nfhot(['push', SEQSTATS, '--to', registry.host], { cwd: tempDir() });
      expect(pushed.exitCode, pushed.stderr).toBe(0);
      const read = await nfhot(['config', '--dry-run', '--json', '--pipeline', dir, '--profile', 'docker,wave']);
      const { reference } = (JSON.parse(read.stdout) as { include: { overrides: { reference: string }[] } }).include
        .overrides[0]!;
      expect(reference).toMatch(/@sha256:/);
      const through = await inspect(dir, args, env);
      // Wave's resolver (here the stand-in's default) gets the pushed reference; SEQSTATS_GC's tasks go past Wave, which would build them from conda.
      expect(through.containers).toEqual(
        definitions({ [LINES]: COREUTILS, [GC]: reference, [UPPER]: reference, [VERSION]: reference }),
      );
      expect(warnings(through.log)).toEqual([
        expect.stringMatching(
          /nf-hot: Wave is on, and Wave's strategy would build their image from their conda environment, not from the patch: tasks of .* with a conda environment run .* directly, not through Wave$/,
        ),
      ]);
      const check = await nfhot(['config', '--dry-run', '--pipeline', dir, '--profile', 'docker,wave']);
      for (const p of [GC, UPPER])
        expect(check.stdout).toMatch(
          new RegExp(
            `  ${p}\\s+runs \\S+ directly, not through Wave \\(which stays on for the other tasks\\): Wave's strategy would build its image from its conda environment`,
          ),
        );
      expect(check.stdout).toMatch(new RegExp(`  ${VERSION}\\s+gives Wave the pushed image`));
    } finally {
      expect((await nfhot(['rollback', SEQSTATS], { cwd: tempDir() })).exitCode).toBe(0);
      await registry.stop();
    }
  });
});
