// The package index the user configured for pip on this machine, handed to the pip that runs in
// the work container for that install only (as PIP_* variables in a file the install reads and
// removes): never in the image, its config or its history.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { stripCredentials } from '../base/redact.js';

/** The pip settings that say where packages come from; a path on this machine (a find-links directory, a file: index) means nothing in an image. */
const KEYS = ['index-url', 'extra-index-url', 'trusted-host', 'find-links', 'no-index', 'timeout', 'retries'] as const;
type Key = (typeof KEYS)[number];

const URL_KEYS = new Set<Key>(['index-url', 'extra-index-url', 'find-links']);

export interface PipSettings {
  /** PIP_* variables for pip in the work container. */
  env: Record<string, string>;
  /** An index on this machine's loopback: the work container needs the host's network to reach it. */
  loopback: string[];
  /** What was handed and where it came from, without credentials: said to the user. */
  said: string[];
  /** What could not be handed (paths on this machine), said as such. */
  skipped: string[];
}

/** None: pip in the work container uses the image's own settings. */
export const NO_PIP_SETTINGS: PipSettings = { env: {}, loopback: [], said: [], skipped: [] };

/** An INI file's values for `sections` (later sections win), keys as pip spells them (index_url = index-url). */
function readIni(text: string, sections: string[]): Partial<Record<string, string>> {
  const found: Record<string, Record<string, string>> = {};
  let section = '';
  let key: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(raw) || !raw.trim()) continue;
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(raw);
    if (header) {
      section = header[1]!.trim();
      key = undefined;
      continue;
    }
    if (/^\s/.test(raw) && key) {
      found[section]![key] += `\n${raw.trim()}`; // a continuation line: one more value
      continue;
    }
    const pair = /^\s*([^=:\s]+)\s*[=:]\s*(.*)$/.exec(raw);
    if (!pair) continue;
    key = pair[1]!.toLowerCase().replace(/_/g, '-');
    (found[section] ??= {})[key] = pair[2]!.trim();
  }
  return Object.assign({}, ...sections.map((s) => found[s] ?? {}));
}

/** pip's configuration files, in the order pip reads them (later ones win), as pip does on Linux and macOS. */
function configFiles(env: NodeJS.ProcessEnv): string[] {
  const home = homedir();
  const xdgDirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
  const global = [...xdgDirs.map((d) => join(d, 'pip', 'pip.conf')), '/etc/pip.conf'];
  const own = env.PIP_CONFIG_FILE;
  // pip reads the user's files unless PIP_CONFIG_FILE names a file that exists.
  const user =
    own && existsSync(own)
      ? []
      : [
          join(home, '.pip', 'pip.conf'),
          join(env.XDG_CONFIG_HOME || join(home, '.config'), 'pip', 'pip.conf'),
          join(home, 'Library', 'Application Support', 'pip', 'pip.conf'),
        ];
  const site = env.VIRTUAL_ENV ? [join(env.VIRTUAL_ENV, 'pip.conf')] : [];
  return [...global, ...user, ...site, ...(own && own !== '/dev/null' ? [own] : [])];
}

const envName = (key: Key) => `PIP_${key.toUpperCase().replace(/-/g, '_')}`;

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[?::1\]?|0\.0\.0\.0)$/i;

/** The host of a URL (an index), undefined for a path or a file: URL. */
function hostOf(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'file:' ? undefined : url.hostname;
  } catch {
    return undefined;
  }
}

/**
 * The pip settings of this machine that say where packages come from: pip's configuration files
 * ([global], then [install]) and the PIP_* variables, which win, as pip reads them.
 */
export function hostPipSettings(
  env: NodeJS.ProcessEnv = process.env,
  read: (file: string) => string | undefined = readText,
): PipSettings {
  const values = new Map<Key, { value: string; from: string }>();
  for (const file of configFiles(env)) {
    const text = read(file);
    if (text === undefined) continue;
    const ini = readIni(text, ['global', 'install']);
    for (const key of KEYS) if (ini[key] !== undefined) values.set(key, { value: ini[key]!, from: file });
  }
  for (const key of KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') values.set(key, { value, from: envName(key) });
  }
  const settings: PipSettings = { env: {}, loopback: [], said: [], skipped: [] };
  for (const [key, { value, from }] of values) {
    let words = value.split(/\s+/).filter(Boolean);
    if (URL_KEYS.has(key)) {
      const local = words.filter((w) => !hostOf(w));
      if (local.length) settings.skipped.push(`${key} ${local.join(' ')} (${from}: a path on this machine)`);
      words = words.filter((w) => hostOf(w));
      for (const w of words) if (LOOPBACK.test(hostOf(w)!)) settings.loopback.push(hostOf(w)!);
      if (!words.length) continue;
    }
    settings.env[envName(key)] = words.join(' ');
    settings.said.push(`${key} ${words.map(stripCredentials).join(' ')} (${from})`);
  }
  settings.loopback = [...new Set(settings.loopback)];
  return settings;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
