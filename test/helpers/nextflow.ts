// The real Nextflow, as scripts/nextflow.sh got it from Maven Central, run by the tests: its runs
// checked with its own trace.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { nfhot } from './cli.js';
import { tempDir } from './repos.js';

/** The Nextflow version the tier runs (NFHOT_TEST_NEXTFLOW picks another that scripts/nextflow.sh got). */
export const NEXTFLOW_VERSION = process.env.NFHOT_TEST_NEXTFLOW ?? '24.10.6';

/** The launcher; a missing one fails the tier loudly, never skips it. */
export function nextflowBin(): string {
  const bin = join(process.env.NFHOT_TEST_CACHE || join(homedir(), '.cache', 'nfhot-test'), 'nextflow', NEXTFLOW_VERSION, 'nextflow');
  if (!existsSync(bin)) throw new Error(`the real Nextflow ${NEXTFLOW_VERSION} is not at ${bin}: run scripts/setup.sh (it runs scripts/nextflow.sh ${NEXTFLOW_VERSION})`);
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
}

/**
 * The config every run gets (-c): the trace fields the tests read, and a failed task lets the
 * others finish (so that which ran does not depend on timing). Neither is part of a task's hash.
 */
function runConfig(): string {
  const file = join(HOME, 'run.config');
  if (!existsSync(file)) writeFileSync(file, "trace {\n    fields = 'name,status,container,hash,exit'\n    overwrite = true\n}\nprocess.errorStrategy = 'finish'\n");
  return file;
}

/**
 * `nextflow run` of the pipeline in `dir` (launched there, or from `launch` as for a pipeline
 * under ~/.nextflow/assets) with the trace on (its rows returned), its own NXF_HOME, Docker
 * through the real CLI, and `args` as given (-profile, -resume, -c …).
 */
export async function nextflowRun(dir: string, args: string[], options: { env?: Record<string, string>; launch?: string } = {}) {
  const trace = join(tempDir(), 'trace.tsv');
  const cwd = options.launch ?? dir;
  const result = await execa(nextflowBin(), ['run', options.launch ? dir : '.', '-c', runConfig(), '-with-trace', trace, ...args], { cwd, reject: false, env: { NXF_HOME: HOME, ...options.env }, all: true });
  const rows = existsSync(trace) ? readTrace(trace) : [];
  return { ...result, rows, log: () => readFileSync(join(cwd, '.nextflow.log'), 'utf8') };
}

export function readTrace(file: string): TraceRow[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const fields = header!.split('\t');
  return lines.map((line) => {
    const row = Object.fromEntries(line.split('\t').map((v, i) => [fields[i], v])) as Record<string, string>;
    return { name: row.name!, process: row.name!.replace(/ \(.*\)$/, ''), status: row.status!, container: row.container!, hash: row.hash!, exit: row.exit! };
  });
}

/** Each process's rows, by process: `{ 'A:B:C': ['COMPLETED'] }`, for readable assertions. */
export function statuses(rows: TraceRow[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of [...rows].sort((a, b) => a.name.localeCompare(b.name))) (out[r.process] ??= []).push(r.status);
  return out;
}

/**
 * What nfhot says each process runs (`nfhot config --json --dry-run`, with these profiles) must be
 * what Nextflow ran: the trace's container of each of its tasks.
 */
export async function expectNfhotReadsAsNextflowRan(dir: string, profiles: string, rows: TraceRow[], extra: string[] = []): Promise<void> {
  const read = await nfhot(['config', '--json', '--dry-run', '--pipeline', dir, '--profile', profiles, ...extra]);
  expect(read.exitCode, read.stderr).toBe(0);
  const runs = new Map((JSON.parse(read.stdout) as { runs: { process: string; container: string | null }[] }).runs.map((r) => [r.process, r.container]));
  const ran = Object.fromEntries(rows.map((r) => [r.process, r.container === '-' ? null : r.container]));
  const said = Object.fromEntries(Object.keys(ran).map((p) => [p, runs.has(p) ? runs.get(p) : 'not in nfhot\'s reading']));
  expect(said).toEqual(ran);
}

/** The example pipeline's Docker build, as the README gives it, for an image of the tests' own. */
export async function buildExampleImage(tag: string, base: string): Promise<void> {
  await execa('docker', ['build', '-q', '--build-arg', `BASE=${base}`, '-t', tag, 'examples'], { env: { DOCKER_BUILDKIT: '0' } });
}
