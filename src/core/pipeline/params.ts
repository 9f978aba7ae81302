// A run's params as Nextflow takes them from its command line: -params-file FILE (JSON, or YAML
// for .yml/.yaml), then each --NAME VALUE over it. They decide which processes a run calls (an
// `if (params.platform == 'illumina')` in a workflow) and what containers become, so nfhot reads
// the pipeline with the params the run is given.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { UsageError } from '../base/errors.js';

export type Params = Record<string, unknown>;

/** `--foo-bar` is also `fooBar`, as Nextflow's CmdRun adds it. */
const camel = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** Sets `a.b.c` (a `\.` is a dot of the name) in `params`, nested as Nextflow nests it. */
function setParam(params: Params, name: string, value: unknown): void {
  const path = name.split(/(?<!\\)\./).map((p) => p.replace(/\\\./g, '.'));
  let at = params;
  for (const part of path.slice(0, -1)) {
    if (typeof at[part] !== 'object' || at[part] === null || Array.isArray(at[part])) at[part] = {};
    at = at[part] as Params;
  }
  const last = path[path.length - 1]!;
  at[last] = value;
  if (last.includes('-')) at[camel(last)] = value;
}

/**
 * A command-line value as Nextflow types it (CmdRun.parseParamValue): true/false, integers and
 * decimals become booleans and numbers; `typed: false` keeps the string, as the strict parser does
 * from 25.10 on.
 */
export function paramValue(text: string, typed = true): unknown {
  if (!typed) return text;
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/^-?\d+\.\d+$/.test(text)) return Number(text);
  return text;
}

/** nfhot's `--param NAME=VALUE` (repeatable): the params a `nextflow run … --NAME VALUE` gives. */
export function paramsOf(pairs: string[], typed = true, into: Params = {}): Params {
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0)
      throw new UsageError(
        `--param ${pair}: give it as NAME=VALUE`,
        'as nextflow run … --NAME VALUE takes it: --param aligner=hisat2',
      );
    setParam(into, pair.slice(0, at), paramValue(pair.slice(at + 1), typed));
  }
  return into;
}

/** A params file as Nextflow reads it: JSON, or YAML when its name ends in .yml or .yaml. */
export async function readParamsFile(path: string): Promise<Params> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(
      `cannot read the params file ${path}: ${err.code === 'ENOENT' ? 'it does not exist' : err.message}`,
    );
  });
  let parsed: unknown;
  try {
    // The YAML parser (116 kB) is loaded only for a YAML file: every command that reads a pipeline imports this module.
    // (yaml is CommonJS under Node: imported so, its exports are the default.)
    parsed = /^\.ya?ml$/i.test(extname(path)) ? (await import('yaml')).default.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `the params file ${path} is not valid ${/ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UsageError(`the params file ${path} holds no map of params`);
  const params: Params = {};
  for (const [k, v] of Object.entries(parsed as Params)) setParam(params, k.replace(/\./g, '\\.'), v);
  return params;
}

/** The params of a `nextflow run …` command line (what `watch -- …` runs): its -params-file, then its --NAME [VALUE]s. */
export function paramsOfCommand(command: string[]): { file?: string; pairs: string[] } {
  const pairs: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const arg = command[i]!;
    if (arg === '-params-file' && i + 1 < command.length) file = command[++i];
    else if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      if (eq > 2) pairs.push(arg.slice(2));
      else if (i + 1 < command.length && !command[i + 1]!.startsWith('-'))
        pairs.push(`${arg.slice(2)}=${command[++i]}`);
      else pairs.push(`${arg.slice(2)}=true`);
    }
  }
  return { ...(file ? { file } : {}), pairs };
}

/** The params of a run: the file's, then each pair over them. */
export async function runParams(options: { paramsFile?: string; params?: string[] }, typed = true): Promise<Params> {
  const params = options.paramsFile ? await readParamsFile(options.paramsFile) : {};
  return paramsOf(options.params ?? [], typed, params);
}
