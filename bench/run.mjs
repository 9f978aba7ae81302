// nfhot's benchmark: the developer loop against the manual docker-commit flow, the bare pip floor
// and a full rebuild, plus start-up, scan, fan-out and growth. Every timed scenario runs several
// times after a warm-up round, compared scenarios alternating within each round. Prints a table,
// writes bench/results.json and bench/RESULTS.md. Usage: npm run bench [-- --rounds N] [-- --only PARTS]
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { buildFixtureImages } from '../test/fixtures/images.mjs';
import { writeSyntheticPipeline } from '../test/fixtures/pipelines/synthetic.mjs';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const arg = (name) => (process.argv.indexOf(name) > 0 ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const ROUNDS = Number(arg('--rounds') ?? 7);
// --only loop,watch,large,rebuild,startup,scan,fanout,growth,nextflow: a part of the benchmark (for profiling); targets need them all.
const ONLY = arg('--only')?.split(',');
const part = (name) => !ONLY || ONLY.includes(name);
const NFHOT = ['node', join(ROOT, 'bin/nfhot.js')];
const BASE_TAG = 'nfhot-bench/seqstats:original';
const IMG = 'nfhot-bench/seqstats:dev';
const MANUAL = 'nfhot-bench/seqstats:manual';
const PIP = [
  'pip',
  'install',
  '-q',
  '--no-cache-dir',
  '--no-build-isolation',
  '--no-deps',
  '--disable-pip-version-check',
];
const scratch = mkdtempSync(join(tmpdir(), 'nfhot-bench-'));
process.env.NFHOT_CACHE = join(scratch, 'cache');
process.env.NFHOT_STATE = join(scratch, 'state'); // the includes it writes are the benchmark's, not the user's

const log = (...a) => process.stderr.write(`bench: ${a.join(' ')}\n`);
const run = (cmd, args, opts = {}) => execa(cmd, args, { cwd: ROOT, ...opts });
const nfhot = (args, opts) => run(NFHOT[0], [NFHOT[1], ...args], opts);
const docker = (...args) => run('docker', args);
async function timed(fn) {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}
/** `nextflow run .` in `dir` with `args`: how many of its tasks ran (COMPLETED) and were reused (CACHED), by its trace. */
async function nextflowRun(nextflow, dir, args, env) {
  const trace = join(scratch, `trace-${process.hrtime.bigint()}.tsv`);
  await run(nextflow, ['run', '.', ...args, '-with-trace', trace], { cwd: dir, env });
  const statuses = readFileSync(trace, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t')[4]);
  rmSync(trace);
  return {
    completed: statuses.filter((x) => x === 'COMPLETED').length,
    cached: statuses.filter((x) => x === 'CACHED').length,
  };
}
/** Fails the bench when a run did not rerun and reuse the tasks it should (the comparison would be of other work). */
function expectRan(what, got, completed, cached) {
  if (got.completed !== completed || got.cached !== cached)
    throw new Error(`${what}: ${got.completed} task(s) ran and ${got.cached} cached, not ${completed} and ${cached}`);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/**
 * Runs nfhot, noting when each line of its stderr came: where a patch spends its time. Phases:
 * start-up (to its first line), resolve, plan (probe, lock, work container), build (the container
 * started, the wheel built), layer (staged and answered: or pip and the commit), load, tags (the
 * tags, the include, the exit).
 */
async function timeline(args) {
  const start = process.hrtime.bigint();
  const at = () => Number(process.hrtime.bigint() - start) / 1e9;
  const child = execa(NFHOT[0], [NFHOT[1], ...args], { cwd: ROOT });
  const lines = [];
  let pending = '';
  child.stderr.on('data', (c) => {
    const t = at();
    pending += c.toString();
    const parts = pending.split('\n');
    pending = parts.pop();
    for (const text of parts) lines.push({ t, text });
  });
  const result = await child;
  const total = at();
  const when = (re) => lines.find((l) => re.test(l.text))?.t;
  const startup = when(/^nfhot: resolving .* …$/);
  const resolved = when(/^nfhot: resolving .* done/);
  const installing = when(/: (installing|pip install) into .* …$/);
  const built = when(/\| nfhot: built \S+\.whl/);
  const installed = when(/: (installing|pip install) into .* done/);
  const loaded = when(/: (loading the layer .*|commit) done/);
  const phases = startup &&
    resolved &&
    installing &&
    built &&
    installed &&
    loaded && {
      total,
      'start-up': startup,
      resolve: resolved - startup,
      plan: installing - resolved,
      build: built - installing,
      layer: installed - built,
      load: loaded - installed,
      tags: total - loaded,
    };
  return { seconds: total, value: result, phases };
}
const PHASES = ['total', 'start-up', 'resolve', 'plan', 'build', 'layer', 'load', 'tags'];
const summary = (xs) => ({
  runs: xs.map((x) => +x.toFixed(4)),
  median: median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
});
const rotate = (xs, n) => xs.map((_, i) => xs[(i + n) % xs.length]);

// ---- set-up: the example image (built offline from the test harness's base), a repository of
// its package with a branch, a working copy, and a synthetic pipeline.
log('building nfhot and the images it needs');
await run('npm', ['run', '--silent', 'build']);
await buildFixtureImages();
await docker('build', '-q', '-t', BASE_TAG, 'examples');
const originalId = (await docker('image', 'inspect', '--format', '{{.Id}}', BASE_TAG)).stdout;
const repo = join(scratch, 'seqstats');
cpSync(join(ROOT, 'examples/seqstats'), repo, { recursive: true });
const git = (...args) =>
  run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.org', ...args], { cwd: repo });
await git('init', '-q', '-b', 'main');
await git('add', '-A');
await git('commit', '-qm', '1.0.0');
await git('checkout', '-qb', 'fix');
await git('apply', join(ROOT, 'examples/seqstats-fix-lowercase.patch'));
await git('commit', '-qam', 'fix');
const workingCopy = join(scratch, 'working-copy');
await run('git', ['clone', '-q', '--branch', 'fix', repo, workingCopy]);
let edits = 0;
const newCommit = async () => {
  writeFileSync(join(repo, 'src/seqstats/_round.py'), `ROUND = ${++edits}\n`);
  await git('add', '-A');
  await git('commit', '-qm', `round ${edits}`);
};
const uncommittedEdit = () => writeFileSync(join(workingCopy, 'src/seqstats/_edit.py'), `EDIT = ${++edits}\n`);
// A one-line edit of a module the working copy already has (what a sync writes without pip).
const moduleOf = join(workingCopy, 'src/seqstats/__init__.py');
const moduleText = readFileSync(moduleOf, 'utf8');
const moduleEdit = () => writeFileSync(moduleOf, `${moduleText}EDITED = ${++edits}\n`);
const source = `git+file://${repo}@fix`;
const exported = async () => {
  const dir = mkdtempSync(join(scratch, 'src-'));
  await run('sh', ['-c', `git -C "${repo}" archive fix | tar -x -C "${dir}"`]);
  return dir;
};
const reset = async (...tags) => {
  await nfhot(['rollback', ...tags], { reject: false });
  for (const t of tags) await docker('tag', originalId, t);
};

// ---- 1-5: the developer loop, alternating.
const loop = {
  floor: [],
  manual: [],
  'nfhot patch (git branch)': [],
  'nfhot patch (working copy)': [],
  'nfhot patch (working copy) after a one-line edit': [],
  'cache hit': [],
  rollback: [],
};
const phases = [];
if (part('loop')) {
  await reset(IMG, MANUAL);
  for (let round = 0; round <= ROUNDS; round++) {
    log(`developer loop, round ${round}/${ROUNDS}${round === 0 ? ' (warm-up)' : ''}`);
    const times = {};
    const scenarios = {
      floor: async () => {
        const dir = await exported();
        times.floor = (
          await timed(() => docker('run', '--rm', '-v', `${dir}:/src`, originalId, ...PIP, '/src'))
        ).seconds;
      },
      manual: async () => {
        const dir = await exported();
        const name = `nfhot-bench-manual-${round}`;
        times.manual = (
          await timed(async () => {
            await docker('run', '--name', name, '-v', `${dir}:/src`, MANUAL, ...PIP, '/src');
            await docker('commit', name, MANUAL);
            await docker('rm', name);
          })
        ).seconds;
        const committed = (await docker('image', 'inspect', '--format', '{{.Id}}', MANUAL)).stdout;
        await docker('tag', originalId, MANUAL);
        await docker('rmi', committed); // nothing of the benchmark stays on the daemon
      },
      git: async () => {
        await newCommit();
        const r = await timeline(['patch', source, '--image', IMG]);
        times['nfhot patch (git branch)'] = r.seconds;
        if (!r.phases) throw new Error(`the patch said less than the benchmark reads: ${r.value.stderr}`);
        phases.push(r.phases);
        times['cache hit'] = (await timed(() => nfhot(['patch', source, '--image', IMG]))).seconds;
      },
      dir: async () => {
        uncommittedEdit();
        times['nfhot patch (working copy)'] = (
          await timed(() => nfhot(['patch', workingCopy, '--image', IMG]))
        ).seconds;
        moduleEdit();
        const sync = await timed(() => nfhot(['patch', workingCopy, '--image', IMG, '--json']));
        if (JSON.parse(sync.value.stdout).images[0].action !== 'synced')
          throw new Error(`the edit was not synced: ${sync.value.stderr}`);
        times['nfhot patch (working copy) after a one-line edit'] = sync.seconds;
      },
    };
    for (const name of rotate(Object.keys(scenarios), round)) await scenarios[name]();
    times.rollback = (await timed(() => nfhot(['rollback', IMG]))).seconds;
    if (round > 0) for (const [k, v] of Object.entries(times)) loop[k].push(v);
  }
  await reset(IMG, MANUAL);
  writeFileSync(moduleOf, moduleText);
}

// ---- 5b: nfhot watch: a one-line edit of a module saved → the tag names an image that runs it.
/**
 * nfhot watch on a working copy patched into IMG: `rounds` timed one-line edits of `module`
 * (after a warm-up), each beside a `docker run --rm IMAGE true`; then more edits up to `total`
 * patches, and the layers the tag has at the end.
 */
async function watchRounds(dir, module, pkg, rounds, total) {
  await reset(IMG);
  const original = readFileSync(module, 'utf8');
  const child = execa(NFHOT[0], [NFHOT[1], 'watch', dir, '--image', IMG], { cwd: ROOT, buffer: false, reject: false });
  const lines = [];
  child.stdout.on('data', (c) => lines.push(...c.toString().split('\n').filter(Boolean)));
  const patches = async (n) => {
    for (const end = Date.now() + 180_000; lines.length < n; await new Promise((r) => setTimeout(r, 5)))
      if (Date.now() > end) throw new Error('nfhot watch made no patch');
  };
  await patches(1);
  const edit = [];
  const beside = [];
  for (let round = 0; round < Math.max(total, rounds + 1); round++) {
    if (round <= rounds) log(`watch ${pkg}, round ${round}/${rounds}${round === 0 ? ' (warm-up)' : ''}`);
    const seen = lines.length;
    const t = await timed(async () => {
      writeFileSync(module, `${original}WATCH_EDIT = ${round}\n`);
      await patches(seen + 1);
    });
    if (round > rounds) continue;
    const live = (
      await docker('run', '--rm', IMG, 'python3', '-c', `import ${pkg}; print(${pkg}.WATCH_EDIT)`)
    ).stdout.trim();
    if (live !== String(round)) throw new Error(`nfhot watch: the tag runs WATCH_EDIT = ${live}, not ${round}`);
    const baseline = (await timed(() => docker('run', '--rm', IMG, 'true'))).seconds;
    if (round > 0) {
      edit.push(t.seconds);
      beside.push(baseline);
    }
  }
  const layers = JSON.parse((await docker('image', 'inspect', IMG)).stdout)[0].RootFS.Layers.length;
  child.kill('SIGINT');
  await child;
  writeFileSync(module, original);
  await reset(IMG);
  return { edit, beside, layers, patches: lines.length };
}

const watching = { 'watch: one-line edit saved → tag runs it': [], 'docker run --rm IMAGE true (beside watch)': [] };
let watchGrowth;
if (part('watch')) {
  log('nfhot watch: one-line edits of a module, then up to 50 patches');
  const w = await watchRounds(workingCopy, join(workingCopy, 'src/seqstats/__init__.py'), 'seqstats', ROUNDS, 50);
  watching['watch: one-line edit saved → tag runs it'] = w.edit;
  watching['docker run --rm IMAGE true (beside watch)'] = w.beside;
  watchGrowth = { patches: w.patches, layers: w.layers };
}

// ---- 5c: the same on a larger package (320 modules, 5 MB).
const large = {
  'large: floor': [],
  'large: nfhot patch (git branch)': [],
  'large: nfhot patch (working copy) after a one-line edit': [],
  'large: watch: one-line edit saved → tag runs it': [],
};
const LARGE_MODULES = 320;
const LARGE_ROUNDS = 5;
let largeBytes = 0;
/** Per round of the large package's first patch: nfhot's peak RSS (MB), the bytes into the work container (the source's archive) and out of it (the layer). */
const largeIo = { rss: [], in: [], out: [] };
// nfhot's peak RSS, said by a preload as its process exits.
const RSS_PRELOAD = join(scratch, 'rss.cjs');
writeFileSync(
  RSS_PRELOAD,
  "process.on('exit', () => process.stderr.write(`nfhot-bench: maxrss ${process.resourceUsage().maxRSS}\\n`));\n",
);
if (part('large')) {
  log(`a larger package: ${LARGE_MODULES} modules`);
  const big = join(scratch, 'bigpkg');
  const line = (m, i) =>
    `    "bigpkg module ${m} line ${i}: ${'ACGT'.repeat(3)} the quick brown fox jumps over the lazy dog",\n`;
  const moduleText = (m) =>
    `"""Module ${m} of a large test package."""\n\nTABLE = [\n${Array.from({ length: 190 }, (_, i) => line(m, i)).join('')}]\n\n\ndef count():\n    return len(TABLE)\n`;
  const write = (path, text) => {
    mkdirSync(join(big, path, '..'), { recursive: true });
    writeFileSync(join(big, path), text);
    largeBytes += Buffer.byteLength(text);
  };
  write(
    'pyproject.toml',
    '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "bigpkg"\nversion = "1.0.0"\n',
  );
  write('src/bigpkg/__init__.py', '"""A large test package."""\n');
  for (let m = 0; m < LARGE_MODULES; m++) write(`src/bigpkg/mod_${String(m).padStart(3, '0')}.py`, moduleText(m));
  const bigGit = (...args) =>
    run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.org', ...args], { cwd: big });
  await bigGit('init', '-q', '-b', 'main');
  await bigGit('add', '-A');
  await bigGit('commit', '-qm', 'bigpkg');
  const bigCopy = join(scratch, 'bigpkg-copy');
  await run('git', ['clone', '-q', big, bigCopy]);
  const edited = join(bigCopy, 'src/bigpkg/mod_123.py');
  const editedText = readFileSync(edited, 'utf8');
  for (let round = 0; round <= LARGE_ROUNDS; round++) {
    log(`large package, round ${round}/${LARGE_ROUNDS}${round === 0 ? ' (warm-up)' : ''}`);
    await reset(IMG);
    writeFileSync(join(big, 'src/bigpkg/_round.py'), `ROUND = ${round}\n`);
    await bigGit('add', '-A');
    await bigGit('commit', '-qm', `round ${round}`);
    const dir = mkdtempSync(join(scratch, 'big-src-'));
    await run('sh', ['-c', `git -C "${big}" archive main | tar -x -C "${dir}"`]);
    // The two alternate which goes first: each leaves the engine and the disk work to do after it.
    const floorRun = async () =>
      (await timed(() => docker('run', '--rm', '-v', `${dir}:/src`, originalId, ...PIP, '/src'))).seconds;
    const patchRun = () =>
      timed(() => run('node', ['-r', RSS_PRELOAD, NFHOT[1], 'patch', `git+file://${big}@main`, '--image', IMG]));
    let floor = round % 2 ? await floorRun() : undefined;
    const patched = await patchRun();
    floor ??= await floorRun();
    const first = patched.seconds;
    const said = (re) => Number(re.exec(patched.value.stderr)?.[1]);
    const sent = (await run('sh', ['-c', `git -C "${big}" archive main | wc -c`])).stdout;
    await nfhot(['patch', bigCopy, '--image', IMG]);
    writeFileSync(edited, `${editedText}EDITED = ${round}\n`);
    const sync = await timed(() => nfhot(['patch', bigCopy, '--image', IMG, '--json']));
    if (JSON.parse(sync.value.stdout).images[0].action !== 'synced')
      throw new Error(`the large edit was not synced: ${sync.value.stderr}`);
    writeFileSync(edited, editedText);
    if (round > 0) {
      large['large: floor'].push(floor);
      large['large: nfhot patch (git branch)'].push(first);
      largeIo.rss.push(said(/nfhot-bench: maxrss (\d+)/) / 1024);
      largeIo.in.push(Number(sent) / 1e6);
      largeIo.out.push(said(/loading the layer \(\d+ files, ([\d.]+) MB\)/));
      large['large: nfhot patch (working copy) after a one-line edit'].push(sync.seconds);
    }
  }
  large['large: watch: one-line edit saved → tag runs it'] = (
    await watchRounds(bigCopy, edited, 'bigpkg.mod_123', 3, 4)
  ).edit;
}

// ---- 6: full rebuild of the example image.
const rebuild = [];
if (part('rebuild')) {
  log('full rebuild (docker build --no-cache), 3 runs');
  for (let i = 0; i < 3; i++)
    rebuild.push(
      (await timed(() => docker('build', '--no-cache', '-q', '-t', 'nfhot-bench/rebuild:x', 'examples'))).seconds,
    );
  await docker('rmi', 'nfhot-bench/rebuild:x');
}

// ---- 7: start-up, and the shim on a patched image.
const startup = {
  'node -e 0': [],
  'nfhot --version': [],
  'nfhot resolve': [],
  'docker image inspect IMAGE': [],
  'docker run --rm IMAGE true': [],
  'shim: docker run --rm IMAGE true': [],
};
if (part('startup')) {
  log('start-up and the docker shim');
  await newCommit();
  await nfhot(['patch', source, '--image', IMG]);
  const shimPath = `${join(ROOT, 'shims')}:${process.env.PATH}`;
  const startupRuns = {
    'node -e 0': () => run('node', ['-e', '0']),
    'nfhot --version': () => nfhot(['--version']),
    'nfhot resolve': () => nfhot(['resolve', IMG]),
    'docker image inspect IMAGE': () => docker('image', 'inspect', IMG),
    'docker run --rm IMAGE true': () => docker('run', '--rm', IMG, 'true'),
    'shim: docker run --rm IMAGE true': () => run('docker', ['run', '--rm', IMG, 'true'], { env: { PATH: shimPath } }),
  };
  for (let round = 0; round <= ROUNDS * 2; round++) {
    for (const name of rotate(Object.keys(startupRuns), round)) {
      const t = (await timed(startupRuns[name])).seconds;
      if (round > 0) startup[name].push(t);
    }
  }
  await reset(IMG);
}

// ---- 8: scan of a synthetic pipeline of 500 modules.
const scan = [];
let scanned = 500;
if (part('scan')) {
  log('scan of a synthetic pipeline of 500 modules');
  const pipeline = join(scratch, 'pipeline-500');
  writeSyntheticPipeline(pipeline, 500);
  for (let i = 0; i <= ROUNDS; i++) {
    const t = (await timed(() => nfhot(['config', '--pipeline', pipeline, '--dry-run', '--json']))).seconds;
    if (i > 0) scan.push(t);
  }
  scanned = JSON.parse((await nfhot(['config', '--pipeline', pipeline, '--dry-run', '--json'])).stdout).model.instances
    .length;
}

// ---- 9: fan-out, one package into N images.
const fanout = { 1: [], 2: [], 4: [], 8: [] };
if (part('fanout')) {
  log('fan-out into 1, 2, 4, 8 images');
  const fanTags = Array.from({ length: 8 }, (_, i) => `nfhot-bench/fan-${i}:dev`);
  for (let round = 0; round <= 3; round++) {
    for (const n of rotate([1, 2, 4, 8], round)) {
      const tags = fanTags.slice(0, n);
      await reset(...tags);
      await newCommit();
      const t = (await timed(() => nfhot(['patch', source, ...tags.flatMap((x) => ['--image', x])]))).seconds;
      if (round > 0) fanout[n].push(t);
    }
  }
  await reset(...fanTags);
}

// ---- 10: growth over 50 successive patches of one image.
const growth = [];
let installedBytes = 0;
const base = JSON.parse((await docker('image', 'inspect', originalId)).stdout)[0];
if (part('growth')) {
  log('growth over 50 successive patches');
  await reset(IMG);
  for (let i = 1; i <= 50; i++) {
    await newCommit();
    await nfhot(['patch', source, '--image', IMG]);
    const info = JSON.parse((await docker('image', 'inspect', IMG)).stdout)[0];
    const top = (await docker('history', '--no-trunc', '--format', '{{.Size}}', '--human=false', IMG)).stdout.split(
      '\n',
    )[0];
    growth.push({ patch: i, layers: info.RootFS.Layers.length, size: info.Size, patchLayer: Number(top) });
  }
  installedBytes = Number(
    (
      await docker(
        'run',
        '--rm',
        IMG,
        'python3',
        '-c',
        'import importlib.metadata as m, os; print(sum(os.path.getsize(f.locate()) for f in m.distribution("seqstats").files if os.path.isfile(f.locate())))',
      )
    ).stdout,
  );
  await reset(IMG);
}

// ---- 11: the loop through the real Nextflow (the example pipeline): a one-line edit saved → the
// pipeline rerun finished with it. nfhot: `nfhot patch ./seqstats` (a sync) then `nextflow run
// -resume` (only the patched image's tasks rerun); by hand: `docker build` of the image (its
// cache keeps the base and the venv) then `nextflow run` without -resume, since a rebuilt image
// under the same tag gives the same task hashes and -resume would reuse the old results.
const nextflowLoop = {
  'nextflow: first run of the example': [],
  'nextflow: run -resume, all cached': [],
  'nextflow: edit → nfhot patch + nextflow run -resume': [],
  'nextflow: edit → docker build + nextflow run': [],
};
if (part('nextflow')) {
  log('the example pipeline under the real Nextflow');
  await run('bash', ['scripts/nextflow.sh']);
  const nextflow = join(
    process.env.NFHOT_TEST_CACHE || join(homedir(), '.cache', 'nfhot-test'),
    'nextflow',
    '24.10.6',
    'nextflow',
  );
  const env = { NXF_HOME: join(scratch, 'nxf-home') };
  const ex = join(scratch, 'example');
  cpSync(join(ROOT, 'examples'), ex, { recursive: true, filter: (p) => !/\/(work|results|\.nextflow)$/.test(p) });
  const exGit = (...args) =>
    run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.org', ...args], { cwd: join(ex, 'seqstats') });
  await exGit('init', '-q', '-b', 'main');
  await exGit('apply', join(ROOT, 'examples/seqstats-fix-lowercase.patch'));
  const pipelines = {};
  // Three copies: nfhot's, the by-hand flow's, and one for first runs (launched apart: -resume takes up a directory's last run).
  for (const who of ['nfhot', 'manual', 'first']) {
    const dir = join(scratch, `pipeline-${who}`);
    cpSync(ex, dir, { recursive: true, filter: (p) => !p.startsWith(join(ex, 'seqstats')) });
    for (const f of ['seqstats_gc', 'seqstats_version', 'count_lines']) {
      const path = join(dir, 'modules/local', f, 'main.nf');
      writeFileSync(
        path,
        readFileSync(path, 'utf8').replaceAll(
          'biocontainers/',
          `nfhot-bench-${who === 'manual' ? 'manual' : 'nfhot'}/`,
        ),
      );
    }
    writeFileSync(join(dir, 'nfhot.config'), '');
    pipelines[who] = dir;
  }
  for (const who of ['nfhot', 'manual'])
    await docker('tag', 'nfhot/debian-python:bookworm', `quay.io/nfhot-bench-${who}/coreutils:9.1--nfhot0`);
  const seqstatsOf = (who) => `quay.io/nfhot-bench-${who}/seqstats:1.0.0--nfhot0`;
  const idOf = async (image) =>
    (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { reject: false })).stdout;
  const build = async () => {
    const before = await idOf(seqstatsOf('manual'));
    await docker('build', '-q', '-t', seqstatsOf('manual'), ex);
    // The replaced build, if nothing else names it (nfhot's keeper of an original does).
    const names =
      before &&
      before !== (await idOf(seqstatsOf('manual'))) &&
      (await run('docker', ['image', 'inspect', '--format', '{{len .RepoTags}}', before], { reject: false })).stdout;
    if (names === '0') await run('docker', ['rmi', before], { reject: false });
  };
  const nf = (who, ...args) => nextflowRun(nextflow, pipelines[who], ['-profile', 'docker', ...args], env);
  await build();
  await docker('tag', seqstatsOf('manual'), seqstatsOf('nfhot'));
  await nfhot(['patch', join(ex, 'seqstats'), '--image', seqstatsOf('nfhot'), '--pipeline', pipelines.nfhot]);
  await nf('nfhot'); // the run an edit follows
  const module = join(ex, 'seqstats/src/seqstats/__init__.py');
  const text = readFileSync(module, 'utf8');
  for (let round = 0; round <= 3; round++) {
    log(`nextflow, round ${round}/3${round === 0 ? ' (warm-up)' : ''}`);
    const times = {};
    const scenarios = {
      first: async () => {
        rmSync(join(pipelines.first, 'work'), { recursive: true, force: true });
        const t = await timed(() => nf('first'));
        expectRan('a first run', t.value, 4, 0);
        times['nextflow: first run of the example'] = t.seconds;
        const cached = await timed(() => nf('first', '-resume'));
        expectRan('a run with nothing changed', cached.value, 0, 4);
        times['nextflow: run -resume, all cached'] = cached.seconds;
      },
      nfhot: async () => {
        writeFileSync(module, `${text}EDITED = ${++edits}\n`);
        const t = await timed(async () => {
          await nfhot(['patch', join(ex, 'seqstats'), '--image', seqstatsOf('nfhot'), '--pipeline', pipelines.nfhot]);
          return nf('nfhot', '-resume');
        });
        expectRan('nfhot patch then -resume', t.value, 3, 1); // the three seqstats tasks, not count_lines
        times['nextflow: edit → nfhot patch + nextflow run -resume'] = t.seconds;
      },
      manual: async () => {
        writeFileSync(module, `${text}EDITED = ${++edits}\n`);
        const t = await timed(async () => {
          await build();
          return nf('manual');
        });
        expectRan('docker build then a run', t.value, 4, 0);
        times['nextflow: edit → docker build + nextflow run'] = t.seconds;
      },
    };
    for (const name of rotate(Object.keys(scenarios), round)) await scenarios[name]();
    if (round > 0) for (const [k, v] of Object.entries(times)) nextflowLoop[k].push(v);
  }
  await nfhot(['rollback', seqstatsOf('nfhot')], { reject: false });
  for (const who of ['nfhot', 'manual'])
    await run('docker', ['rmi', seqstatsOf(who), `quay.io/nfhot-bench-${who}/coreutils:9.1--nfhot0`], {
      reject: false,
    });
}

// ---- the cluster loop, on a real SLURM cluster of one node (test/helpers/cluster.ts: its own
// munge, slurmctld, slurmd, the node's dockerd and a registry with a login): an edit, then `nfhot
// patch --push` and `nextflow run -profile docker,slurm -resume` (the three seqstats tasks rerun on
// the node from the pushed digest); by hand: `docker build` under a new tag, `docker push`, the
// module's container set to it, and the full run. With the bytes each edit uploads to the
// registry (its storage's growth).
const clusterLoop = {
  'slurm: edit → nfhot patch --push + nextflow run -resume': [],
  'slurm: edit → docker build + docker push + nextflow run': [],
  'slurm: of which nfhot patch --push': [],
  'slurm: of which docker build + docker push': [],
};
const pushedBytes = { nfhot: [], manual: [] };
if (part('cluster')) {
  log('the example pipeline on a real SLURM cluster');
  await run('bash', ['scripts/nextflow.sh']);
  // The harness is the tests' (TypeScript): bundled for this run, where it finds the project's packages.
  const { build: bundle } = await import('esbuild');
  const harness = join(ROOT, 'node_modules', '.nfhot-bench', `cluster-${process.pid}.mjs`);
  await bundle({
    entryPoints: [join(ROOT, 'test/helpers/cluster.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: harness,
    logLevel: 'error',
  });
  const { clusterUnavailable, startCluster } = await import(harness);
  rmSync(harness);
  const why = await clusterUnavailable();
  if (why) throw new Error(`the cluster loop cannot run here: ${why}`);
  const nextflow = join(
    process.env.NFHOT_TEST_CACHE || join(homedir(), '.cache', 'nfhot-test'),
    'nextflow',
    '24.10.6',
    'nextflow',
  );
  const original = 'quay.io/nfhot-bench-cluster/seqstats:1.0.0--nfhot0';
  const coreutils = 'quay.io/nfhot-bench-cluster/coreutils:9.1--nfhot0';
  const ex = join(scratch, 'cluster-example');
  cpSync(join(ROOT, 'examples'), ex, { recursive: true, filter: (p) => !/\/(work|results|\.nextflow)$/.test(p) });
  await run('git', ['init', '-q', '-b', 'main'], { cwd: join(ex, 'seqstats') });
  await run('git', ['apply', join(ROOT, 'examples/seqstats-fix-lowercase.patch')], { cwd: join(ex, 'seqstats') });
  await docker('build', '-q', '-t', original, ex);
  await docker('tag', 'nfhot/debian-python:bookworm', coreutils);
  const cluster = await startCluster({ images: [original, coreutils] });
  const env = {
    NXF_HOME: join(scratch, 'nxf-home-cluster'),
    SLURM_CONF: cluster.slurmConf,
    DOCKER_CONFIG: cluster.dockerConfig,
  };
  const registry = `${cluster.registry.host}/lab`;
  const pipelines = {};
  for (const who of ['nfhot', 'manual']) {
    const dir = join(scratch, `cluster-${who}`);
    cpSync(ex, dir, { recursive: true, filter: (p) => !p.startsWith(join(ex, 'seqstats')) });
    for (const f of ['seqstats_gc', 'seqstats_version', 'count_lines']) {
      const path = join(dir, 'modules/local', f, 'main.nf');
      writeFileSync(path, readFileSync(path, 'utf8').replaceAll('biocontainers/', 'nfhot-bench-cluster/'));
    }
    writeFileSync(join(dir, 'nfhot.config'), '');
    pipelines[who] = dir;
  }
  const stored = () => cluster.registry.stored();
  const nf = (who, ...args) =>
    nextflowRun(nextflow, pipelines[who], ['-profile', 'docker,slurm', '-c', cluster.runConfig, ...args], env);
  // By hand, each edit is a new tag the nodes have not seen (a tag they have would not be pulled again).
  const manualModules = ['seqstats_gc', 'seqstats_version'].map((f) =>
    join(pipelines.manual, 'modules/local', f, 'main.nf'),
  );
  const manualTag = (n) => `${registry}/manual/seqstats:edit-${n}`;
  const useTag = (tag) => {
    for (const path of manualModules)
      writeFileSync(path, readFileSync(path, 'utf8').replace(/container '[^']*'/, `container '${tag}'`));
  };
  const module = join(ex, 'seqstats/src/seqstats/__init__.py');
  const text = readFileSync(module, 'utf8');
  try {
    await nfhot(
      ['patch', join(ex, 'seqstats'), '--image', original, '--pipeline', pipelines.nfhot, '--push', registry],
      { env },
    );
    await nf('nfhot'); // the run an edit follows
    for (let round = 0; round <= Math.min(ROUNDS, 3); round++) {
      log(`cluster, round ${round}/${Math.min(ROUNDS, 3)}${round === 0 ? ' (warm-up)' : ''}`);
      const times = {};
      const bytes = {};
      const scenarios = {
        nfhot: async () => {
          writeFileSync(module, `${text}EDITED = ${++edits}\n`);
          const before = stored();
          const t = await timed(async () => {
            times['slurm: of which nfhot patch --push'] = (
              await timed(() =>
                nfhot(
                  [
                    'patch',
                    join(ex, 'seqstats'),
                    '--image',
                    original,
                    '--pipeline',
                    pipelines.nfhot,
                    '--push',
                    registry,
                  ],
                  { env },
                ),
              )
            ).seconds;
            return nf('nfhot', '-resume');
          });
          expectRan('nfhot patch --push then -resume on SLURM', t.value, 3, 1);
          times['slurm: edit → nfhot patch --push + nextflow run -resume'] = t.seconds;
          bytes.nfhot = stored() - before;
        },
        manual: async () => {
          writeFileSync(module, `${text}EDITED = ${++edits}\n`);
          const before = stored();
          const tag = manualTag(edits);
          const t = await timed(async () => {
            const built = await timed(async () => {
              await run('docker', ['build', '-q', '-t', tag, ex]);
              await run('docker', ['push', '-q', tag], { env });
            });
            times['slurm: of which docker build + docker push'] = built.seconds;
            useTag(tag);
            return nf('manual');
          });
          expectRan('docker build, push, then a full run on SLURM', t.value, 4, 0);
          times['slurm: edit → docker build + docker push + nextflow run'] = t.seconds;
          bytes.manual = stored() - before;
          await run('docker', ['rmi', tag], { reject: false });
        },
      };
      for (const name of rotate(Object.keys(scenarios), round)) await scenarios[name]();
      if (round > 0) {
        for (const [k, v] of Object.entries(times)) clusterLoop[k].push(v);
        for (const [k, v] of Object.entries(bytes)) pushedBytes[k].push(v);
      }
    }
  } finally {
    await nfhot(['rollback', original], { reject: false, env });
    await cluster.stop();
    // The pushed copies' tags on this machine's daemon (nfhot push keeps them) go with the registry.
    const pushed = (await docker('images', '--format', '{{.Repository}}:{{.Tag}}')).stdout
      .split('\n')
      .filter((r) => r.startsWith(`${registry}/`));
    await run('docker', ['rmi', original, coreutils, ...pushed], { reject: false });
  }
}

// ---- results.
const S = Object.fromEntries(
  Object.entries({
    ...loop,
    ...watching,
    ...large,
    'full rebuild (docker build --no-cache)': rebuild,
    ...startup,
    [`scan: nfhot config, ${scanned} modules`]: scan,
    ...Object.fromEntries(Object.entries(fanout).map(([n, v]) => [`fan-out: ${n} image${n === '1' ? '' : 's'}`, v])),
    ...nextflowLoop,
    ...clusterLoop,
  })
    .filter(([, v]) => v.length)
    .map(([k, v]) => [k, summary(v)]),
);
if (ONLY) {
  // A part only: its table, no targets (they compare parts), nothing written.
  for (const [k, v] of Object.entries(S))
    process.stdout.write(
      `${k.padEnd(40)} median ${v.median.toFixed(3)}  min ${v.min.toFixed(3)}  max ${v.max.toFixed(3)}\n`,
    );
  if (phases.length > 1)
    process.stdout.write(
      `phases (medians): ${JSON.stringify(Object.fromEntries(PHASES.map((k) => [k, +median(phases.slice(1).map((p) => p[k])).toFixed(3)])))}\n`,
    );
  if (largeIo.rss.length)
    process.stdout.write(
      `large, first patch (medians): nfhot's peak RSS ${median(largeIo.rss).toFixed(1)} MB, ${median(largeIo.in).toFixed(1)} MB into the work container, ${median(largeIo.out).toFixed(1)} MB out of it\n`,
    );
  if (pushedBytes.nfhot.length)
    process.stdout.write(
      `bytes pushed per edit (medians): nfhot ${median(pushedBytes.nfhot)}, docker build + push ${median(pushedBytes.manual)}\n`,
    );
  rmSync(scratch, { recursive: true, force: true });
  process.exit(0);
}
const m = (k) => S[k].median;
const first = growth[0];
const last = growth[growth.length - 1];
const maxLayer = Math.max(...growth.map((g) => g.patchLayer));
const targets = [
  ['nfhot patch (git branch) / floor', m('nfhot patch (git branch)') / m('floor'), '≤ 0.80'],
  ['nfhot patch (working copy) / floor', m('nfhot patch (working copy)') / m('floor'), '≤ 1.25'],
  [
    'nfhot patch (working copy) after a one-line edit / floor',
    m('nfhot patch (working copy) after a one-line edit') / m('floor'),
    '≤ 0.40',
  ],
  [
    `large (${LARGE_MODULES} modules): patch from a branch / floor`,
    m('large: nfhot patch (git branch)') / m('large: floor'),
    '≤ 0.90',
  ],
  [
    `large (${LARGE_MODULES} modules): patch after a one-line edit / floor`,
    m('large: nfhot patch (working copy) after a one-line edit') / m('large: floor'),
    '≤ 0.50',
  ],
  [`large (${LARGE_MODULES} modules): nfhot's peak RSS (MB)`, median(largeIo.rss), '≤ 150'],
  ['nfhot patch (git branch) / manual', m('nfhot patch (git branch)') / m('manual'), '≤ 0.75'],
  ['nfhot patch (working copy) / manual', m('nfhot patch (working copy)') / m('manual'), '≤ 1.00'],
  ['watch: one-line edit saved → tag runs it (s)', m('watch: one-line edit saved → tag runs it'), '≤ 0.60'],
  ['cache hit / docker run --rm IMAGE true', m('cache hit') / m('docker run --rm IMAGE true'), '≤ 0.80'],
  ['nfhot resolve / docker image inspect IMAGE', m('nfhot resolve') / m('docker image inspect IMAGE'), '≤ 1.50'],
  ['rollback / docker run --rm IMAGE true', m('rollback') / m('docker run --rm IMAGE true'), '≤ 1.00'],
  ['nfhot --version / node -e 0', m('nfhot --version') / m('node -e 0'), '≤ 3.00'],
  [
    'shim: docker run --rm IMAGE true / docker run --rm IMAGE true',
    m('shim: docker run --rm IMAGE true') / m('docker run --rm IMAGE true'),
    '≤ 1.15',
  ],
  [`scan of ${scanned} modules (s)`, m(`scan: nfhot config, ${scanned} modules`), '≤ 0.50'],
  ...[2, 4, 8].map((n) => [
    `fan-out ${n} images / (${n} × 1 image)`,
    m(`fan-out: ${n} images`) / (n * m('fan-out: 1 image')),
    '≤ 0.75',
  ]),
  ['growth: layers after patch 50 − after patch 1', last.layers - first.layers, '≤ 0'],
  [
    `watch: layers after ${watchGrowth.patches} patches − original`,
    watchGrowth.layers - base.RootFS.Layers.length,
    '≤ 2',
  ],
  ['growth: size after patch 50 / after patch 1', last.size / first.size, '≤ 1.00'],
  ['patch layer (largest of 50) / files pip installed', maxLayer / installedBytes, '≤ 1.20'],
].map(([what, value, target]) => ({
  what,
  value: +value.toFixed(3),
  target,
  met: value <= Number(target.replace(/[^\d.]/g, '')) + 1e-9,
}));
const avgPhases = Object.fromEntries(PHASES.map((k) => [k, +median(phases.slice(1).map((p) => p[k])).toFixed(3)]));

const machine = {
  cpus: cpus().length,
  node: process.version,
  docker: (await docker('version', '--format', '{{.Server.Version}}')).stdout,
  rounds: ROUNDS,
};
writeFileSync(
  join(ROOT, 'bench/results.json'),
  `${JSON.stringify({ date: new Date().toISOString(), machine, scenarios: S, targets, phases: avgPhases, growth, watchGrowth, large: { modules: LARGE_MODULES, bytes: largeBytes, io: largeIo }, cluster: { pushedBytes }, installedBytes, originalLayers: base.RootFS.Layers.length, originalSize: base.Size }, null, 2)}\n`,
);

const f = (x) => x.toFixed(3);
const rows = Object.entries(S).map(
  ([k, v]) => `| ${k} | ${f(v.median)} | ${f(v.min)} | ${f(v.max)} | ${v.runs.length} |`,
);
const md = [
  '# nfhot benchmark',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine.cpus} cores, Node ${machine.node}, Docker ${machine.docker}, ${ROUNDS} rounds after a warm-up (compared scenarios alternate within each round). Wall times in seconds.`,
  '',
  '| scenario | median | min | max | runs |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...rows,
  '',
  '## Targets',
  '',
  '| measure | value | target | met |',
  '| --- | ---: | --- | --- |',
  ...targets.map((t) => `| ${t.what} | ${t.value} | ${t.target} | ${t.met ? 'yes' : '**no**'} |`),
  '',
  `Where a patch from a branch spends its time (medians, s, from when each line of its output came): ${Object.entries(
    avgPhases,
  )
    .map(([k, v]) => `${k} ${v}`)
    .join(
      ', ',
    )}. start-up: to its first line (Node, the command's code, the first Engine API calls); resolve: the fetch of the branch; plan: the images read, the probe's cached answer, the lock, the work container created; build: the container started, the sources in on its stdin, the wheel built; layer: pip's installer staging the wheel, the layer's entries answered; load: \`docker load\` of the layer; tags: the tags, the include, the exit.`,
  '',
  `The larger package: ${LARGE_MODULES} modules, ${largeBytes} bytes of source; first patch from a branch / its floor ${(m('large: nfhot patch (git branch)') / m('large: floor')).toFixed(2)}, watch edit → tag ${m('large: watch: one-line edit saved → tag runs it').toFixed(3)} s. Its first patch (medians): nfhot's peak RSS ${median(largeIo.rss).toFixed(1)} MB, ${median(largeIo.in).toFixed(1)} MB into the work container (the source's archive), ${median(largeIo.out).toFixed(1)} MB out of it (the layer, streamed to the engine).`,
  '',
  ...(pushedBytes.nfhot.length
    ? [
        `The cluster loop on SLURM (one node, its own Docker daemon, a registry with a login): edit → nfhot patch --push + -resume ${m('slurm: edit → nfhot patch --push + nextflow run -resume').toFixed(3)} s against docker build + docker push + the full run ${m('slurm: edit → docker build + docker push + nextflow run').toFixed(3)} s (${(m('slurm: edit → nfhot patch --push + nextflow run -resume') / m('slurm: edit → docker build + docker push + nextflow run')).toFixed(2)} ×); bytes pushed per edit (medians): nfhot ${median(pushedBytes.nfhot)}, docker build + push ${median(pushedBytes.manual)}.`,
        '',
      ]
    : []),
  `Growth over 50 patches: layers ${first.layers} → ${last.layers} (original: ${base.RootFS.Layers.length}), image size ${first.size} → ${last.size} bytes, patch layer ${Math.min(...growth.map((g) => g.patchLayer))}–${maxLayer} bytes for ${installedBytes} bytes of installed files.`,
  '',
].join('\n');
writeFileSync(join(ROOT, 'bench/RESULTS.md'), md);
process.stdout.write(md);
rmSync(scratch, { recursive: true, force: true });
const missed = targets.filter((t) => !t.met).length;
log(missed ? `${missed} target(s) missed: see bench/RESULTS.md` : 'every target met');
