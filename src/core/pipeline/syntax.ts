// Which Nextflow a run will use, and which of its config and script parsers: the first one (v1)
// or the strict one (v2), chosen as Nextflow chooses it (NXF_SYNTAX_PARSER, else its version's
// default: v2 from 26.04; 24.10 has no v2). nfhot reads the pipeline as that parser does.
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import semver from 'semver';
import type { Context } from '../base/context.js';
import { cacheDir } from '../base/dirs.js';
import { UsageError } from '../base/errors.js';
import { writeFileAtomic } from '../base/util.js';
import { runParams, type Params } from './params.js';

export const SYNTAXES = ['v1', 'v2'] as const;
export type Syntax = (typeof SYNTAXES)[number];

/** The Nextflow a run will use, as far as nfhot can tell, and the parser it reads the pipeline with. */
export interface NextflowTarget {
  /** The version of the `nextflow` on PATH (NXF_VER when set: the launcher runs that one); undefined when there is none. */
  version?: string;
  syntax: Syntax;
  /** Why this parser, in words: `NXF_SYNTAX_PARSER=v2`, `--syntax v1`, `the default of Nextflow 26.04.0`, … */
  why: string;
}

/** The first release whose default is the strict parser (NXF_SYNTAX_PARSER unset). */
const V2_DEFAULT_FROM = '26.4.0';
/** The first release that has the strict parser at all. */
const V2_FROM = '25.2.0';

/** The numbers of a Nextflow version (24.10.6, 26.04.0-edge, >=25.04.0) as semver: 26.4.0 (semver refuses a leading zero). */
export function versionNumbers(text: string): string | undefined {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? `${Number(m[1])}.${Number(m[2])}.${Number(m[3])}` : undefined;
}

/** Whether Nextflow's `version` is `min` or later, by their numbers (an edge release by its own); undefined without one to tell. */
export function atLeast(version: string | undefined, min: string): boolean | undefined {
  const v = version && versionNumbers(version);
  return v ? semver.gte(v, min) : undefined;
}

/**
 * The parser a run uses, as Nextflow decides it: `override` (nfhot's --syntax), else
 * NXF_SYNTAX_PARSER (exactly v1 or v2, as Nextflow accepts it), else the version's default.
 */
export function syntaxFor(version: string | undefined, env: NodeJS.ProcessEnv, override?: string): NextflowTarget {
  const at = version ? { version } : {};
  if (override !== undefined) return { ...at, syntax: checked(override, '--syntax'), why: `--syntax ${override}` };
  const set = env.NXF_SYNTAX_PARSER;
  if (set !== undefined) return { ...at, syntax: checked(set, 'NXF_SYNTAX_PARSER'), why: `NXF_SYNTAX_PARSER=${set}` };
  const strict = atLeast(version, V2_DEFAULT_FROM);
  if (strict === undefined)
    return { syntax: 'v1', why: 'no nextflow on PATH (or none that says its version), and no NXF_SYNTAX_PARSER' };
  return { ...at, syntax: strict ? 'v2' : 'v1', why: `the default of Nextflow ${version}` };
}

function checked(value: string, where: string): Syntax {
  if ((SYNTAXES as readonly string[]).includes(value)) return value as Syntax;
  throw new UsageError(
    `${where} is '${value}': Nextflow's parsers are v1 and v2`,
    'v2 is the strict parser (the default from Nextflow 26.04), v1 the first one',
  );
}

/** A note when the parser cannot be the one this Nextflow runs (v2 before 25.02): said, the reading goes on as asked. */
export function syntaxNote(target: NextflowTarget): string | undefined {
  if (target.syntax === 'v2' && atLeast(target.version, V2_FROM) === false)
    return `Nextflow ${target.version} has no strict parser (v2 came in 25.02): it reads the pipeline with the first one`;
  return undefined;
}

/** The `nextflow` that PATH names, with the stat that says whether it changed. */
function onPath(env: NodeJS.ProcessEnv): { path: string; stamp: string } | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, 'nextflow');
    try {
      const s = statSync(path);
      if (s.isFile() && s.mode & 0o111) return { path, stamp: `${s.size}:${s.mtimeMs}` };
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The version of the Nextflow a run will use: NXF_VER when set (Nextflow's launcher runs that
 * version), else what the `nextflow` on PATH says (`nextflow -version`, a JVM start: remembered
 * per launcher file in nfhot's cache). Undefined when there is no nextflow.
 */
export async function nextflowVersion(ctx: Context, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.NXF_VER) return env.NXF_VER;
  const launcher = onPath(env);
  if (!launcher) return undefined;
  const file = join(cacheDir(), 'nextflow-versions.json');
  const known = await readFile(file, 'utf8').then(
    (t) => JSON.parse(t) as Record<string, string>,
    () => ({}) as Record<string, string>,
  );
  const key = `${launcher.path}\0${launcher.stamp}`;
  if (known[key]) return known[key];
  const said = await ctx.programs.run(launcher.path, ['-version']);
  const version = /version (\d+\.\d+\.\d+(?:-[\w.]+)?)/.exec(said.all)?.[1];
  if (!version) return undefined;
  await mkdir(cacheDir(), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify({ ...known, [key]: version })}\n`);
  return version;
}

/** The Nextflow and the parser a run will use (see syntaxFor, nextflowVersion). */
export async function nextflowTarget(ctx: Context, override?: string): Promise<NextflowTarget> {
  if (override !== undefined) checked(override, '--syntax');
  return syntaxFor(await nextflowVersion(ctx), process.env, override);
}

/** How the run a command reads the pipeline for is started: nfhot's --syntax, --params-file, --param, -c. */
export interface RunOptions {
  syntax?: string;
  paramsFile?: string;
  params?: string[];
  /** The run's -c files (a site's config: its executor, registry, profiles), read after nextflow.config as Nextflow reads them. */
  configs?: string[];
}

/**
 * The reading of the pipeline for that run: the parser (and the Nextflow it was chosen for) and
 * the run's params, typed as that parser types command-line values (the strict one keeps strings
 * from 25.10 on).
 */
export async function readingFor(
  ctx: Context,
  run: RunOptions = {},
): Promise<{ target: NextflowTarget; syntax: Syntax; params: Params; configs: string[] }> {
  const target = await nextflowTarget(ctx, run.syntax);
  const typed = !(target.syntax === 'v2' && atLeast(target.version, '25.10.0'));
  const configs = (run.configs ?? []).map((c) => resolve(c));
  for (const c of configs) if (!existsSync(c)) throw new UsageError(`-c ${c}: no such config file`);
  return { target, syntax: target.syntax, params: await runParams(run, typed), configs };
}

/** In a sentence: "Nextflow 26.04.0's strict parser (v2: its default)". */
export function describeTarget(target: NextflowTarget): string {
  const parser = target.syntax === 'v2' ? 'strict parser (v2' : 'first parser (v1';
  return `${target.version ? `Nextflow ${target.version}'s` : "Nextflow's"} ${parser}: ${target.why})`;
}
