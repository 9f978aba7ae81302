import semver from 'semver';
import { UserError } from '../base/errors.js';

/** One Python environment found in an image (one line of probe.py's output). */
export interface PythonEnv {
  /** Where it was found, e.g. /opt/venv/bin/python3. */
  path: string;
  /** How: first on the task's PATH, in nfhot's list of usual places, by its distribution's files, or --python. */
  how?: 'PATH' | 'list' | 'search' | 'given';
  executable: string;
  prefix: string;
  version: string;
  venv: boolean;
  pip: string | null;
  /** Without pip: a pip wheel in the image that can run as pip (ensurepip's, Debian's). */
  pipWheel?: string | null;
  externallyManaged: boolean;
  /** The image has a directory /tmp with nothing in it (read from this environment's probe). */
  tmp?: boolean;
  /** The distribution asked about, when this environment has it. */
  dist: { name: string; version: string; directUrl: DirectUrl | null; projectUrls: [string, string][] } | null;
}

/** PEP 610's direct_url.json, as far as nfhot reads it. */
export interface DirectUrl {
  url: string;
  vcs_info?: { vcs: string; commit_id?: string; requested_revision?: string };
  dir_info?: object;
  subdirectory?: string;
}

export interface Interpreter {
  env: PythonEnv;
  /** Why this one: shown to the user. */
  reason: string;
}

const MIN_PYTHON = '3.8.0';

const FOUND = {
  PATH: " and is on a task's PATH",
  list: '',
  search: ', found by its files',
  given: '',
};

export const SEARCHED =
  "a task's PATH (through the image's entrypoint), /opt/venv, /venv, /opt/conda/envs/*, /opt/conda, /opt/*/bin, /usr/local/bin, /usr/bin";

/** Parses probe output; environments are listed once each (several paths may lead to one prefix). */
export function parseProbe(stdout: string): { envs: PythonEnv[]; explicitMissing: boolean } {
  const envs: PythonEnv[] = [];
  let explicitMissing = false;
  const prefixes = new Set<string>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    let parsed: (PythonEnv & { missing?: boolean }) | undefined;
    try {
      parsed = JSON.parse(line) as PythonEnv & { missing?: boolean };
    } catch {
      continue;
    }
    if (parsed.missing) {
      explicitMissing = true;
      continue;
    }
    if (prefixes.has(parsed.prefix)) continue;
    prefixes.add(parsed.prefix);
    envs.push(parsed);
  }
  return { envs, explicitMissing };
}

/**
 * The environment to install into: the one that already has the distribution (in search order:
 * PATH first), else the image's default python3/python; `explicit` (--python) overrides.
 */
export function chooseInterpreter(
  envs: PythonEnv[],
  image: string,
  dist: string | undefined,
  explicit: string | undefined,
): Interpreter {
  let chosen: Interpreter | undefined;
  if (explicit) {
    const env = envs.find((e) => e.path === explicit || e.executable === explicit);
    if (!env)
      throw new UserError(
        `no working Python at ${explicit} in ${image}`,
        `the Pythons nfhot found are: ${envs.map((e) => e.path).join(', ') || 'none'}`,
      );
    chosen = { env, reason: 'given with --python' };
  } else {
    const owner = dist ? envs.find((e) => e.dist) : undefined;
    if (owner?.dist)
      chosen = { env: owner, reason: `it has ${owner.dist.name} ${owner.dist.version}${FOUND[owner.how ?? 'list']}` };
    else if (envs[0])
      chosen = {
        env: envs[0],
        reason: dist ? `no environment has ${dist}; this is the default python` : 'the default python',
      };
  }
  if (!chosen) {
    throw new UserError(
      `no Python interpreter found in ${image}`,
      `nfhot looked in ${SEARCHED}; name one with --python PATH`,
    );
  }
  // the install reads installed metadata with importlib.metadata, new in 3.8.
  if (semver.lt(semver.coerce(chosen.env.version) ?? '0.0.0', MIN_PYTHON)) {
    throw new UserError(
      `${chosen.env.executable} in ${image} is Python ${chosen.env.version}; nfhot needs Python ${MIN_PYTHON} or newer`,
      'choose another interpreter with --python',
    );
  }
  return chosen;
}

const SOURCE_KEYS = [
  'source',
  'source code',
  'repository',
  'code',
  'github',
  'gitlab',
  'homepage',
  'home',
  'home-page',
];

/** Where a distribution's repository is: its PEP 610 record, then its project URLs. */
export function repositoryOf(dist: NonNullable<PythonEnv['dist']>): string | undefined {
  const direct = dist.directUrl;
  // What an image says is not to be trusted: only URLs of the usual transports reach git.
  if (
    direct?.vcs_info?.vcs === 'git' &&
    direct.url &&
    /^(git\+)?(https?|ssh|git|file):\/\/[^\s-][^\s]*$/.test(direct.url)
  )
    return direct.url.replace(/^git\+/, '');
  if (direct?.dir_info && direct.url?.startsWith('file://')) return direct.url;
  const urls = [...dist.projectUrls].sort((a, b) => rank(a[0]) - rank(b[0]));
  for (const [key, url] of urls) {
    if (rank(key) === SOURCE_KEYS.length) continue;
    if (/^(https?|ssh|git):\/\//.test(url) && (key.toLowerCase().startsWith('home') ? looksLikeRepo(url) : true))
      return url.replace(/\/+$/, '');
  }
  return undefined;
}

function rank(key: string): number {
  const i = SOURCE_KEYS.indexOf(key.trim().toLowerCase());
  return i < 0 ? SOURCE_KEYS.length : i;
}

function looksLikeRepo(url: string): boolean {
  return (
    /\.git$/.test(url) || /\/\/(www\.)?(github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)\/[^/]+\/[^/]+/.test(url)
  );
}
