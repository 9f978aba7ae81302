// The real Nextflow, as scripts/nextflow.sh got it from Maven Central, run by the tests: its runs
// checked with its own trace.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { nfhot } from './cli.js';
import { git, tempDir } from './repos.js';

/** The Nextflow version the tier runs (NFHOT_TEST_NEXTFLOW picks another that scripts/nextflow.sh got). */
export const NEXTFLOW_VERSION = process.env.NFHOT_TEST_NEXTFLOW ?? '24.10.6';

/** The parser the tier's runs use (NXF_SYNTAX_PARSER; 24.10 and 25.04 default to the first). */
export const NEXTFLOW_SYNTAX = process.env.NXF_SYNTAX_PARSER === 'v2' ? 'v2' : 'v1';

/**
 * What `nfhot config --check` says when it agrees with this Nextflow's inspect on every process:
 * `processes` under 24.10 (its inspect runs the entry workflow, qualified names), `definitions`
 * from 25.04 (every process definition by simple name); and with which Nextflow and parser.
 */
export function agreement(processes: number, definitions: number): RegExp {
  const what = NEXTFLOW_VERSION.startsWith('24.')
    ? `${processes} process\\(es\\)`
    : `${definitions} process definition\\(s\\)`;
  const parser = NEXTFLOW_SYNTAX === 'v2' ? 'strict parser \\(v2' : 'first parser \\(v1';
  return new RegExp(
    `nextflow inspect agrees on ${what}; 0 difference\\(s\\) \\(compared with Nextflow ${NEXTFLOW_VERSION.replace(/[.]/g, '\\.')}'s ${parser}`,
  );
}

/** The launcher; a missing one fails the tier loudly, never skips it. */
export function nextflowBin(): string {
  const bin = join(
    process.env.NFHOT_TEST_CACHE || join(homedir(), '.cache', 'nfhot-test'),
    'nextflow',
    NEXTFLOW_VERSION,
    'nextflow',
  );
  if (!existsSync(bin))
    throw new Error(
      `the real Nextflow ${NEXTFLOW_VERSION} is not at ${bin}: run scripts/setup.sh (it runs scripts/nextflow.sh ${NEXTFLOW_VERSION})`,
    );
  return bin;
}

/** A directory on PATH whose `nextflow` is the real one (for nfhot, which runs `nextflow` itself). */
export function nextflowOnPath(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'nextflow'), `#!/bin/sh\nexec ${JSON.stringify(nextflowBin())} "$@"\n`, { mode: 0o755 });
  return `${dir}:${process.env.PATH}`;
}

const HOME = tempDir('nfhot-nxf-home-');

/** One task as Nextflow's trace lists it. */
export interface TraceRow {
  /** The task's name: its process's qualified name, and its tag in parentheses. */
  name: string;
  process: string;
  status: string;
  container: string;
  hash: string;
  exit: string;
  /** Its work directory. */
  workdir: string;
}

/**
 * The config every run gets (-c): the trace fields the tests read, and a failed task ignored, so
 * that every other task runs whatever the timing ('finish' submits nothing after a failure, and
 * which tasks were submitted by then depends on the machine's load). Neither is part of a task's
 * hash; the failure shows in the trace (FAILED, its exit code), and the run exits 0. It declares
 * the run's profiles, empty: 25.04's strict parser knows only the profiles of the last file it
 * read, and refuses any other (NEXTFLOW-FACTS §9).
 */
function runConfig(args: string[]): string {
  const file = join(
    HOME,
    `run${profilesIn(args)
      .map((p) => `-${p}`)
      .join('')}.config`,
  );
  if (!existsSync(file))
    writeFileSync(
      file,
      `trace {\n    fields = 'name,status,container,hash,exit,workdir'\n    overwrite = true\n}\nprocess.errorStrategy = 'ignore'\n${declared(args)}`,
    );
  return file;
}

/** The profiles a command line selects (-profile A,B). */
function profilesIn(args: string[]): string[] {
  const at = args.indexOf('-profile');
  return at >= 0 ? args[at + 1]!.split(',') : [];
}

/** Those profiles declared, empty, for a -c file: 25.04's strict parser knows only the profiles of the last file it read. */
function declared(args: string[]): string {
  const profiles = profilesIn(args);
  return profiles.length ? `profiles {\n${profiles.map((p) => `    ${p} {\n    }\n`).join('')}}\n` : '';
}

/**
 * `nextflow run` of the pipeline in `dir` (launched there, or from `launch` as for a pipeline
 * under ~/.nextflow/assets) with the trace on (its rows returned), its own NXF_HOME, Docker
 * through the real CLI, and `args` as given (-profile, -resume, -c …).
 */
export async function nextflowRun(
  dir: string,
  args: string[],
  options: { env?: Record<string, string>; launch?: string } = {},
) {
  const trace = join(tempDir(), 'trace.tsv');
  const cwd = options.launch ?? dir;
  const result = await execa(nextflowBin(), nextflowArgs(options.launch ? dir : '.', trace, args), {
    cwd,
    reject: false,
    env: { ...NEXTFLOW_ENV, ...options.env },
    all: true,
  });
  const rows = existsSync(trace) ? readTrace(trace) : [];
  return { ...result, rows, log: () => readFileSync(join(cwd, '.nextflow.log'), 'utf8') };
}

/** The arguments of such a run, for a command run by someone else (nfhot watch): `nextflow run PROJECT … -with-trace TRACE ARGS`. */
export const nextflowArgs = (project: string, trace: string, args: string[]) => [
  'run',
  project,
  '-c',
  runConfig(args),
  '-with-trace',
  trace,
  ...args,
];

/** The environment of the tests' Nextflow runs: a home of the tests' own. */
export const NEXTFLOW_ENV = { NXF_HOME: HOME };

export function readTrace(file: string): TraceRow[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const fields = header!.split('\t');
  return lines.map((line) => {
    const row = Object.fromEntries(line.split('\t').map((v, i) => [fields[i], v])) as Record<string, string>;
    return {
      name: row.name!,
      process: row.name!.replace(/ \(.*\)$/, ''),
      status: row.status!,
      container: row.container!,
      hash: row.hash!,
      exit: row.exit!,
      workdir: row.workdir!,
    };
  });
}

/** Each process's rows, by process: `{ 'A:B:C': ['COMPLETED'] }`, for readable assertions. */
export function statuses(rows: TraceRow[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of [...rows].sort((a, b) => a.name.localeCompare(b.name))) (out[r.process] ??= []).push(r.status);
  return out;
}

/** Each task's hash by its name (the processes in `but` left out): equal maps, the same tasks cached. */
export const hashes = (rows: TraceRow[], but: string[] = []) =>
  Object.fromEntries(rows.filter((r) => !but.includes(r.process)).map((r) => [r.name, r.hash]));

/**
 * What nfhot says each process runs (`nfhot config --json --dry-run`, with these profiles) must be
 * what Nextflow ran: the trace's container of each of its tasks.
 */
export async function expectNfhotReadsAsNextflowRan(
  dir: string,
  profiles: string,
  rows: TraceRow[],
  extra: string[] = [],
): Promise<void> {
  const read = await nfhot(['config', '--json', '--dry-run', '--pipeline', dir, '--profile', profiles, ...extra]);
  expect(read.exitCode, read.stderr).toBe(0);
  const runs = new Map(
    (JSON.parse(read.stdout) as { runs: { process: string; container: string | null }[] }).runs.map((r) => [
      r.process,
      r.container,
    ]),
  );
  const ran = Object.fromEntries(rows.map((r) => [r.process, r.container === '-' ? null : r.container]));
  const said = Object.fromEntries(
    Object.keys(ran).map((p) => [p, runs.has(p) ? runs.get(p) : "not in nfhot's reading"]),
  );
  expect(said).toEqual(ran);
}

/** The example pipeline's Docker build, as the README gives it, for an image of the tests' own. */
export async function buildExampleImage(tag: string, base: string): Promise<void> {
  await execa('docker', ['build', '-q', '--build-arg', `BASE=${base}`, '-t', tag, 'examples'], {
    env: { DOCKER_BUILDKIT: '0' },
  });
}

/**
 * A copy of a pipeline whose modules name images of the test's own (`renames`: text in the
 * modules' container names, replaced); `untouched`: without the line that includes nfhot.config,
 * as a pipeline nextflow pulled into ~/.nextflow/assets is.
 */
export function copyPipeline(
  from: string,
  renames: Record<string, string>,
  options: { untouched?: boolean } = {},
): string {
  const dir = join(tempDir(), 'pipeline');
  // Not what runs leave, nor the example's own package.
  cpSync(from, dir, {
    recursive: true,
    filter: (p) => !/^(work|results|\.nextflow|seqstats|nfhot\.config)$/.test(relative(from, p)),
  });
  for (const file of (readdirSync(join(dir, 'modules'), { recursive: true }) as string[]).filter((f) =>
    f.endsWith('.nf'),
  )) {
    const path = join(dir, 'modules', file);
    let text = readFileSync(path, 'utf8');
    for (const [from, to] of Object.entries(renames)) text = text.replaceAll(from, to);
    writeFileSync(path, text);
  }
  const config = join(dir, 'nextflow.config');
  if (options.untouched)
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/\n\/\/ Patched images from nfhot.*\nincludeConfig 'nfhot.config'\n/, '\n'),
    );
  return dir;
}

/** Every file of a directory and its content: to show it untouched. */
export function contents(dir: string): Record<string, string> {
  return Object.fromEntries(
    (readdirSync(dir, { recursive: true }) as string[])
      .filter((f) => statSync(join(dir, f)).isFile())
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

/** The example pipeline's processes, as Nextflow names their tasks. */
export const EXAMPLE = {
  GC: 'NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC',
  UPPER: 'NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC_UPPER',
  VERSION: 'NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_VERSION',
  LINES: 'NFHOT_EXAMPLE:SEQSTATS:COUNT_LINES',
} as const;

/** The example's images under a test's own prefix (its modules' `biocontainers/` replaced by PREFIX/, docker.registry quay.io). */
export function exampleImages(prefix: string) {
  return { SEQSTATS: `quay.io/${prefix}/seqstats:1.0.0--nfhot0`, COREUTILS: `quay.io/${prefix}/coreutils:9.1--nfhot0` };
}

/** The example package's repository: main (1.0.0), fix-lowercase (1.0.1, the fix), fix-again (1.0.2, another commit). */
export async function seqstatsRepo(): Promise<string> {
  const dir = join(tempDir(), 'seqstats');
  cpSync('examples/seqstats', dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-qm', '1.0.0');
  await git(dir, 'checkout', '-qb', 'fix-lowercase');
  await execa('git', ['apply', join(process.cwd(), 'examples/seqstats-fix-lowercase.patch')], { cwd: dir });
  await git(dir, 'commit', '-qam', 'fix');
  await git(dir, 'checkout', '-qb', 'fix-again');
  for (const f of ['pyproject.toml', 'src/seqstats/__init__.py'])
    writeFileSync(join(dir, f), readFileSync(join(dir, f), 'utf8').replace('1.0.1', '1.0.2'));
  await git(dir, 'commit', '-qam', '1.0.2');
  return dir;
}

/**
 * The same comparison with what `nextflow inspect` says each process would run with these
 * profiles (no task runs, no image is needed); `unknown`: processes nfhot must say it cannot tell,
 * with what they depend on. Returns nfhot's reading.
 */
export async function expectNfhotReadsAsNextflowInspects(
  dir: string,
  profiles: string,
  unknown: Record<string, RegExp> = {},
) {
  const inspect = await execa(nextflowBin(), ['inspect', '-format', 'json', '-profile', profiles, '.'], {
    cwd: dir,
    env: NEXTFLOW_ENV,
    reject: false,
  });
  expect(inspect.exitCode, inspect.stderr).toBe(0);
  const inspected = (
    JSON.parse(inspect.stdout.slice(inspect.stdout.indexOf('{'))) as {
      processes: { name: string; container: string | null }[];
    }
  ).processes;
  // Without a daemon: reading a pipeline needs none.
  const read = await nfhot(['config', '--json', '--dry-run', '--pipeline', dir, '--profile', profiles], {
    env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
  });
  expect(read.exitCode, read.stderr).toBe(0);
  const runs = (JSON.parse(read.stdout) as { runs: { process: string; container?: string | null; unknown?: string }[] })
    .runs;
  const said = Object.fromEntries(
    inspected.map((p) => [
      p.name,
      runs.find((r) => r.process === p.name)?.container ??
        (runs.some((r) => r.process === p.name) ? undefined : "not in nfhot's reading"),
    ]),
  );
  const expected = Object.fromEntries(inspected.map((p) => [p.name, unknown[p.name] ? undefined : p.container]));
  expect(said).toEqual(expected);
  for (const [p, why] of Object.entries(unknown)) expect(runs.find((r) => r.process === p)?.unknown).toMatch(why);
  // And nothing more runs in nfhot's reading than in Nextflow's.
  expect(runs.map((r) => r.process).sort()).toEqual(inspected.map((p) => p.name).sort());
  return { runs, stderr: read.stderr };
}

/** nf-hot as this nfhot installs it: what `-plugins` takes. */
export const PLUGIN = `nf-hot@${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}`;

/** The plugin given in a config file (as `plugins { id … }`), for `nextflow inspect`, which has no -plugins; and the run's profiles. */
function pluginConfig(args: string[]): string {
  const file = join(tempDir(), 'plugins.config');
  writeFileSync(file, `plugins {\n    id '${PLUGIN}'\n}\n${declared(args)}`);
  return file;
}

/** The version of a plugin this Nextflow requires when it is enabled (its jar's META-INF/plugins-info.txt: nf-wave@1.7.5 for 24.10.6). */
async function bundledPlugin(id: string): Promise<string> {
  const jar = join(nextflowBin(), '..', 'lib', `nextflow-${NEXTFLOW_VERSION}.jar`);
  const dir = tempDir();
  await execa('jar', ['xf', jar, 'META-INF/plugins-info.txt'], { cwd: dir });
  const line = readFileSync(join(dir, 'META-INF', 'plugins-info.txt'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${id}@`));
  if (!line) throw new Error(`Nextflow ${NEXTFLOW_VERSION} bundles no ${id}`);
  return line.trim().slice(id.length + 1);
}

/**
 * A stand-in for Nextflow's nf-wave in `home`'s plugins, which Nextflow requires (the version it
 * names) when Wave is on, even offline, and which cannot be had here: named nf-wave, it provides
 * no resolver, so Wave's place in the chain of resolvers is Nextflow's default one. Its class is
 * nf-hot's plugin class, as built (dist/plugin).
 */
export async function installWaveStandIn(home: string): Promise<void> {
  const version = await bundledPlugin('nf-wave');
  const wave = join(home, 'plugins', `nf-wave-${version}`, 'classes');
  mkdirSync(join(wave, 'META-INF'), { recursive: true });
  cpSync(
    join('dist', 'plugin', PLUGIN.replace('@', '-'), 'classes', 'nfhot', 'HotPlugin.class'),
    join(wave, 'nfhot', 'HotPlugin.class'),
  );
  writeFileSync(
    join(wave, 'META-INF', 'MANIFEST.MF'),
    `Manifest-Version: 1.0\nPlugin-Id: nf-wave\nPlugin-Version: ${version}\nPlugin-Class: nfhot.HotPlugin\nPlugin-Provider: nfhot tests\n`,
  );
}

/** The aliases of the pipelines the tests inspect: alias → the process it names. */
const ALIASES: Record<string, string> = { SEQSTATS_GC_UPPER: 'SEQSTATS_GC' };

/**
 * Containers by process definition (its simple name), aliases left out: what `nextflow inspect`
 * lists from 25.04 on (every process definition, by simple name, outside the entry workflow),
 * and what 24.10's list of the workflow's processes (qualified names, aliases too) comes to.
 */
export function definitions(containers: Record<string, string>): Record<string, string> {
  const simple = Object.entries(containers).map(([name, container]) => [name.split(':').at(-1)!, container] as const);
  const out = Object.fromEntries(simple.filter(([name]) => !(name in ALIASES)));
  // An alias runs what its process runs (nothing in these pipelines sets a container per alias).
  for (const [name, container] of simple) if (name in ALIASES) expect(container, name).toBe(out[ALIASES[name]!]);
  return out;
}

/** What `nextflow inspect` says each process definition runs (see definitions), with the plugin; and Nextflow's log. */
export async function inspect(dir: string, args: string[], env: Record<string, string> = {}) {
  const log = join(tempDir(), 'nextflow.log');
  const result = await execa(
    nextflowBin(),
    ['-log', log, '-c', pluginConfig(args), 'inspect', '-format', 'json', ...args, '.'],
    { cwd: dir, env: { ...NEXTFLOW_ENV, ...env }, reject: false },
  );
  expect(result.exitCode, result.stderr).toBe(0);
  const processes = (
    JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as { processes: { name: string; container: string }[] }
  ).processes;
  return {
    containers: definitions(Object.fromEntries(processes.map((p) => [p.name, p.container]))),
    log: readFileSync(log, 'utf8'),
  };
}

/** nf-hot's warnings in a Nextflow log. */
export const warnings = (log: string) => log.split('\n').filter((l) => / WARN .*nf-hot: /.test(l));
