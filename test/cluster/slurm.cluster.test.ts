// The example pipeline on a real SLURM cluster (test/helpers/cluster.ts: Debian's slurmctld and
// slurmd, munge, a second Docker daemon as the node's engine, a registry that wants a login), run
// by the real Nextflow with -profile docker,slurm, each run checked by its trace: the first run on
// the node; a patch only in this machine's engine, which nfhot warns about and refuses, and whose
// tasks fail on the node naming the reference; the same patch pushed, rerun on the node from the
// digest while the rest stays cached; nf-hot under SLURM; the failed task rerun here; watch
// --push, each save uploading one layer; a registry gone in the middle of a push; the rollback.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { startCluster, clusterUnavailable, type TestCluster } from '../helpers/cluster.js';
import { cleanupRepo, docker } from '../helpers/docker.js';
import {
  buildExampleImage,
  copyPipeline,
  EXAMPLE,
  exampleImages,
  hashes,
  NEXTFLOW_ENV,
  nextflowArgs,
  nextflowOnPath,
  nextflowRun,
  PLUGIN,
  readTrace,
  seqstatsRepo,
  statuses,
  type TraceRow,
} from '../helpers/nextflow.js';
import { tempDir } from '../helpers/repos.js';
import { BASE } from '../fixtures/images.mjs';

const PREFIX = `nfhot-test-${randomBytes(5).toString('hex')}`;
const { SEQSTATS, COREUTILS } = exampleImages(PREFIX);
const { GC, UPPER, VERSION, LINES } = EXAMPLE;
const PATCHED = [GC, UPPER, VERSION];

const unavailable = await clusterUnavailable();
// Said in the tier's output: the cluster cannot start on this machine, and why.
if (unavailable) console.warn(`the SLURM tier does not run here: ${unavailable}`);

const containerOf = (rows: TraceRow[], process: string) => rows.find((r) => r.process === process)!.container;

describe.skipIf(unavailable)("the example pipeline on a real SLURM cluster, tasks in the node's own Docker", () => {
  let cluster: TestCluster;
  let dir: string;
  let repo: string;
  let first: Awaited<ReturnType<typeof nextflowRun>>;
  /** nfhot's environment: the login for the registry, the nextflow on PATH (config --check), SLURM's config. */
  let env: Record<string, string>;
  const run = (...args: string[]) =>
    nextflowRun(dir, ['-profile', 'docker,slurm', '-c', cluster.runConfig, ...args], {
      env: { SLURM_CONF: cluster.slurmConf },
    });
  /** Runs `run` with the include overriding nothing (nf-hot alone routes the tasks), then has nfhot write it again. */
  const withPluginOnly = async <T>(go: () => Promise<T>): Promise<T> => {
    writeFileSync(join(dir, 'nfhot.config'), '// nothing: nf-hot routes the tasks\n');
    try {
      return await go();
    } finally {
      expect((await nfhot(['config', '--profile', 'docker,slurm'], { cwd: dir, env })).exitCode).toBe(0);
    }
  };
  const onNode = (...args: string[]) =>
    execa('docker', args, { env: { DOCKER_HOST: cluster.node.host }, reject: false });

  beforeAll(async () => {
    await buildExampleImage(SEQSTATS, BASE);
    await docker('tag', BASE, COREUTILS);
    // The node ran the pipeline before: it has the originals (a patch it must pull from the registry).
    cluster = await startCluster({ images: [SEQSTATS, COREUTILS] });
    env = {
      DOCKER_CONFIG: cluster.dockerConfig,
      PATH: nextflowOnPath(),
      ...NEXTFLOW_ENV,
      SLURM_CONF: cluster.slurmConf,
    };
    dir = copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` });
    repo = await seqstatsRepo();
  }, 600_000);
  afterAll(async () => {
    await cluster?.stop();
    await cleanupRepo(`quay.io/${PREFIX}`); // the originals, nfhot's references, the copies pushed
  });

  it("the first run: every task a SLURM job, run by the node's engine; the bug shows in SEQSTATS_GC", async () => {
    expect((await nfhot(['config', '--profile', 'docker,slurm'], { cwd: dir, env })).exitCode).toBe(0);
    first = await run();
    expect(statuses(first.rows), first.all).toEqual({
      [LINES]: ['COMPLETED'],
      [GC]: ['FAILED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    for (const r of first.rows)
      expect(readFileSync(join(r.workdir, '.command.run'), 'utf8')).toMatch(/^#SBATCH -J nf-/m);
    // nfhot reads where each process runs as Nextflow ran it.
    const read = await nfhot(['config', '--json', '--dry-run', '--profile', 'docker,slurm'], { cwd: dir, env });
    const runs = JSON.parse(read.stdout).runs as { process: string; executor: string }[];
    expect(Object.fromEntries(runs.map((r) => [r.process, r.executor]))).toEqual({
      [GC]: 'slurm',
      [UPPER]: 'slurm',
      [VERSION]: 'slurm',
      [LINES]: 'slurm',
    });
  });

  it("a patch only in this machine's engine: patch warns, config --check refuses, nf-hot warns once, and the node fails to pull it, naming it", async () => {
    const patched = await nfhot(['patch', `git+file://${repo}@fix-lowercase`, '--profile', 'docker,slurm'], {
      cwd: dir,
      env,
    });
    expect(patched.exitCode, patched.stderr).toBe(0);
    const local = patched.stdout.trim();
    for (const p of PATCHED) {
      expect(patched.stderr).toContain(
        `a run with -profile docker,slurm does not use the patch in ${p}: it runs on the 'slurm' executor, whose nodes pull ${local} from a registry, and it is only in this machine's engine; push the patch`,
      );
    }
    // Read without the slurm profile, patch names the profile that would strand the nodes.
    const plain = await nfhot(['patch', `git+file://${repo}@fix-lowercase`], { cwd: dir, env });
    expect(plain.stderr).toContain(
      `-profile slurm runs tasks on the 'slurm' executor: the patch of ${SEQSTATS} is only in this machine's engine and would not reach them`,
    );

    const check = await nfhot(['config', '--check', '--profile', 'docker,slurm'], { cwd: dir, env });
    expect(check.exitCode).toBe(1);
    expect(check.stdout).toMatch(
      new RegExp(`${GC}\\s+does NOT use the patch \\(it runs on the 'slurm' executor, whose nodes pull`),
    );
    expect(check.stderr).toContain(
      `3 patched process(es) would not get their patch in a run with -profile docker,slurm: ${[GC, UPPER, VERSION].join(', ')}`,
    );

    // A site's config nfhot cannot follow (an include by expression) sends the tasks to SLURM: config --check asks Nextflow.
    const hidden = copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` });
    writeFileSync(join(hidden, 'conf/site.config'), "process.executor = 'slurm'\n");
    writeFileSync(
      join(hidden, 'nextflow.config'),
      readFileSync(join(hidden, 'nextflow.config'), 'utf8').replace(
        "includeConfig 'conf/modules.config'",
        "includeConfig 'conf/modules.config'\nincludeConfig \"${projectDir}/conf/\" + 'site.config'",
      ),
    );
    const unseen = await nfhot(['config', '--check', '--profile', 'docker'], { cwd: hidden, env });
    expect(unseen.exitCode).toBe(1);
    expect(unseen.stderr).toContain(
      "the executor: Nextflow resolves 'slurm' for the processes that set none, nfhot read local (a config include it could not follow)",
    );
    expect(unseen.stdout).toMatch(
      new RegExp(
        `${GC}\\s+does NOT use the patch \\(nextflow config resolves its executor to 'slurm' \\(set where nfhot could not follow\\): it runs on the 'slurm' executor`,
      ),
    );

    const stranded = await run('-resume');
    expect(statuses(stranded.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['FAILED'],
      [UPPER]: ['FAILED'],
      [VERSION]: ['FAILED'],
    });
    const failed = stranded.rows.find((r) => r.process === VERSION)!;
    expect(failed.container).toBe(local);
    expect(
      readFileSync(join(failed.workdir, '.command.log'), 'utf8') +
        readFileSync(join(failed.workdir, '.command.err'), 'utf8'),
    ).toContain(`Unable to find image '${local}' locally`);

    // nf-hot, with an include that overrides nothing, says it in the run's log, once for the image.
    expect((await nfhot(['plugin', 'install', '--nxf-home', NEXTFLOW_ENV.NXF_HOME])).exitCode).toBe(0);
    const plugin = await withPluginOnly(() => run('-plugins', PLUGIN, '-resume'));
    expect(plugin.rows.filter((r) => PATCHED.includes(r.process as never)).map((r) => [r.status, r.container])).toEqual(
      PATCHED.map(() => ['FAILED', local]),
    );
    const warned = plugin
      .log()
      .split('\n')
      .filter((l) => l.includes('nf-hot: ') && l.includes('executor'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain(
      `${SEQSTATS} is patched only in this machine's docker, and its tasks run on the 'slurm' executor, whose nodes pull ${local} from a registry: they cannot; push the patch`,
    );
  });

  let pushed: string;
  it('pushed: the patched tasks rerun on the node from the digest it pulls, the rest cached; nf-hot gives the same', async () => {
    const before = cluster.registry.stored();
    // The same patch again, with --push: nothing to build, the patch set goes up.
    const push = await nfhot(
      [
        'patch',
        `git+file://${repo}@fix-lowercase`,
        '--profile',
        'docker,slurm',
        '--push',
        `${cluster.registry.host}/lab`,
        '--json',
      ],
      { cwd: dir, env },
    );
    expect(push.exitCode, push.stderr).toBe(0);
    pushed = (JSON.parse(push.stdout).pushed as { reference: string }[])[0]!.reference;
    expect(pushed).toMatch(
      new RegExp(`^${cluster.registry.host}/lab/quay\\.io/${PREFIX}/seqstats@sha256:[0-9a-f]{64}$`),
    );
    const firstPush = cluster.registry.stored() - before;
    expect((await nfhot(['config', '--check', '--profile', 'docker,slurm'], { cwd: dir, env })).exitCode).toBe(0);

    const second = await run('-resume');
    expect(statuses(second.rows), second.all).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['COMPLETED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    for (const p of PATCHED) expect(containerOf(second.rows, p)).toBe(pushed);
    expect(readFileSync(join(dir, 'results/seqstats_gc/sequences.gc.tsv'), 'utf8')).toContain('ACGTacgt\tGC=0.50');
    expect(readFileSync(join(dir, 'results/seqstats_version/versions.yml'), 'utf8')).toBe('seqstats: 1.0.1\n');
    // The node's engine pulled it by digest (only the patch layer: it had the original's).
    expect((await onNode('image', 'inspect', pushed)).exitCode).toBe(0);

    // nf-hot alone gives the tasks the same digest, as target and hash key: nothing reruns.
    const plugin = await withPluginOnly(() => run('-plugins', PLUGIN, '-resume'));
    expect(statuses(plugin.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['CACHED'],
      [UPPER]: ['CACHED'],
      [VERSION]: ['CACHED'],
    });
    expect(hashes(plugin.rows)).toEqual(hashes(second.rows));
    expect(plugin.log()).not.toMatch(/WARN .*nf-hot: .*executor/);
    console.info(`slurm: the first push uploaded ${firstPush} bytes`);
  });

  it('pushed: Singularity and Apptainer get the digest to pull (docker://), as the real nextflow inspect shows', async () => {
    const apptainer = join(tempDir(), 'apptainer.config');
    writeFileSync(apptainer, 'apptainer.enabled = true\ndocker.enabled = false\n');
    for (const [engine, args] of [
      ['singularity', ['-profile', 'singularity,slurm']],
      ['apptainer', ['-profile', 'slurm', '-c', apptainer]],
    ] as const) {
      const inspected = await execa('nextflow', ['inspect', '-format', 'json', ...args, '.'], {
        cwd: dir,
        env,
        reject: false,
      });
      expect(inspected.exitCode, inspected.stderr).toBe(0);
      const containers = JSON.parse(inspected.stdout.slice(inspected.stdout.indexOf('{'))).processes as {
        name: string;
        container: string;
      }[];
      expect(Object.fromEntries(containers.map((p) => [p.name, p.container])), engine).toEqual({
        [GC]: `docker://${pushed}`,
        [UPPER]: `docker://${pushed}`,
        [VERSION]: `docker://${pushed}`,
        [LINES]: `${PREFIX}/coreutils:9.1--nfhot0`, // as the module names it: inspect shows a name before Singularity's docker:// is added
      });
      const check = await nfhot(
        [
          'config',
          '--check',
          ...(engine === 'singularity' ? ['--profile', 'singularity,slurm'] : ['--profile', 'slurm', '-c', apptainer]),
        ],
        { cwd: dir, env },
      );
      expect(check.exitCode, check.stderr).toBe(0);
      expect(check.stdout).toMatch(
        new RegExp(
          `${GC}\\s+uses the patch: docker://\\S+ \\(${engine} pulls the pushed patch by digest and converts it into its cache\\)`,
        ),
      );
    }
  });

  it('the task that failed on the node reruns here, with the patch', async () => {
    const failed = first.rows.find((r) => r.process === GC)!;
    const rerun = await nfhot(['rerun', failed.workdir], { cwd: dir, env });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/the task passed with the patch/);
  });

  it('watch --push on a working copy: each save uploads the new layer alone, and -resume runs it on the node', async () => {
    const wc = join(tempDir(), 'seqstats');
    await execa('git', ['clone', '-q', '-b', 'fix-lowercase', repo, wc]);
    const trace = join(tempDir(), 'watch-trace.tsv');
    const command = [
      'nextflow',
      ...nextflowArgs('.', trace, ['-profile', 'docker,slurm', '-c', cluster.runConfig, '-resume']),
    ];
    const watcher = nfhot(['watch', wc, '--push', `${cluster.registry.host}/lab`, '--', ...command], {
      cwd: dir,
      env,
      all: true,
    });
    const lines: string[] = [];
    watcher.all?.on('data', (d: Buffer) => lines.push(d.toString()));
    const waitFor = async (re: RegExp, n: number) => {
      for (let i = 0; i < 600 && (lines.join('').match(new RegExp(re.source, 'g'))?.length ?? 0) < n; i++)
        await new Promise((r) => setTimeout(r, 500));
      expect(lines.join('').match(new RegExp(re.source, 'g'))?.length ?? 0, lines.join('')).toBeGreaterThanOrEqual(n);
    };
    await waitFor(/watch: nextflow exited with 0/, 1);
    const sizes: number[] = [];
    for (const n of [1, 2]) {
      const before = cluster.registry.stored();
      const init = join(wc, 'src/seqstats/__init__.py');
      writeFileSync(init, `${readFileSync(init, 'utf8')}\nSAVED = ${n}\n`);
      await waitFor(/watch: nextflow exited with 0/, n + 1);
      sizes.push(cluster.registry.stored() - before);
    }
    watcher.kill('SIGINT');
    await watcher;
    const rows = readTrace(trace);
    expect(statuses(rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['COMPLETED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    expect(containerOf(rows, GC)).toMatch(
      new RegExp(`^${cluster.registry.host}/lab/quay\\.io/${PREFIX}/seqstats@sha256:`),
    );
    // One layer of the package's files, its config and manifest: a few kB, not the image's 200 MB.
    for (const size of sizes) expect(size).toBeLessThan(200_000);
    console.info(`slurm: watch --push uploaded ${sizes.join(' and ')} bytes for two saves`);
  });

  it('a registry gone in the middle of a push: nfhot says so, and the include names no digest the registry lacks', async () => {
    // A registry that stops when the manifest comes: the layers went up, the image never did.
    let proxy: Server | undefined;
    let manifests = 0;
    proxy = createServer((req, res) => {
      if (req.method === 'PUT' && /\/manifests\//.test(req.url ?? '')) {
        manifests++;
        req.socket.destroy();
        proxy?.close();
        proxy?.closeAllConnections();
        return;
      }
      const [host, port] = cluster.registry.host.split(':');
      const forward = request(
        { host, port: Number(port), path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const auth = Buffer.from(`${cluster.registry.user}:${cluster.registry.password}`).toString('base64');
    writeFileSync(
      join(cluster.dockerConfig, 'config.json'),
      JSON.stringify({ auths: { [cluster.registry.host]: { auth }, [host]: { auth } } }),
    );
    const again = await nfhot(
      ['patch', `git+file://${repo}@fix-again`, '--profile', 'docker,slurm', '--push', `${host}/lab`],
      { cwd: dir, env },
    );
    expect(again.exitCode).not.toBe(0);
    expect(manifests).toBe(1);
    expect(again.stderr).toMatch(/layer [0-9a-f]{12}: Pushed/);
    expect(again.stderr).toMatch(new RegExp(`cannot push ${host.replace(/[.]/g, '\\.')}/lab/`));
    console.info(
      `slurm: a registry gone at the manifest: ${again.stderr
        .split('\n')
        .filter((l) => /error|warning|hint/.test(l))
        .join(' | ')}`,
    );
    const include = readFileSync(join(dir, 'nfhot.config'), 'utf8');
    expect(include).not.toContain(host);
    const check = await nfhot(['config', '--check', '--profile', 'docker,slurm'], { cwd: dir, env });
    expect(check.exitCode).toBe(1);
    expect(check.stdout).toMatch(/does NOT use the patch \(it runs on the 'slurm' executor/);
    // Pushed where the registry answers, the nodes have it again.
    expect(
      (
        await nfhot(['push', SEQSTATS, '--to', `${cluster.registry.host}/lab`, '--profile', 'docker,slurm'], {
          cwd: dir,
          env,
        })
      ).exitCode,
    ).toBe(0);
    expect((await nfhot(['config', '--check', '--profile', 'docker,slurm'], { cwd: dir, env })).exitCode).toBe(0);
  });

  it("rollback: the first run's hashes come back, on the node", async () => {
    expect((await nfhot(['rollback', SEQSTATS, '--profile', 'docker,slurm'], { cwd: dir, env })).exitCode).toBe(0);
    const back = await run('-resume');
    expect(statuses(back.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['FAILED'],
      [UPPER]: ['CACHED'],
      [VERSION]: ['CACHED'],
    });
    // The task that failed fails again, in a new directory (Nextflow never reuses a failed task's).
    expect(hashes(back.rows, [GC])).toEqual(hashes(first.rows, [GC]));
    expect(containerOf(back.rows, GC)).toBe(SEQSTATS);
  });
});
