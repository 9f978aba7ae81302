// nf-hot, nfhot's Nextflow plugin: the built copy this package ships (dist/plugin, built from
// nextflow/plugin), and where Nextflow looks for plugins. Installing is copying that directory into
// the plugins directory, whole or not at all.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { packagePath, packageVersion } from '../base/assets.js';
import { UserError } from '../base/errors.js';

export const PLUGIN_ID = 'nf-hot';

/** What to give Nextflow: `-plugins nf-hot@VERSION`, or `plugins { id 'nf-hot@VERSION' }`. */
export const pluginSpec = (version = packageVersion()) => `${PLUGIN_ID}@${version}`;

/**
 * Where Nextflow looks for plugins: NXF_PLUGINS_DIR, else $NXF_HOME/plugins, NXF_HOME being
 * ~/.nextflow unless set (the launcher's default). `nxfHome`, given, wins.
 */
export function pluginsDir(nxfHome?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (nxfHome) return resolve(nxfHome, 'plugins');
  if (env.NXF_PLUGINS_DIR) return resolve(env.NXF_PLUGINS_DIR);
  return resolve(env.NXF_HOME || join(homedir(), '.nextflow'), 'plugins');
}

/** The plugin this nfhot ships, laid out as Nextflow loads it; a UserError when it was built without one. */
export function shippedPlugin(): string {
  const dir = packagePath(`dist/plugin/${PLUGIN_ID}-${packageVersion()}`);
  if (!existsSync(join(dir, 'classes', 'META-INF', 'MANIFEST.MF'))) {
    throw new UserError(
      `this nfhot was built without its Nextflow plugin (${dir} is missing)`,
      'build it where a JDK (11 or later) and Maven are installed: npm run build',
    );
  }
  return dir;
}

/** One file's path and content after another: equal digests, equal plugins. */
function digestOf(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(relative(dir, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(dir);
  return hash.digest('hex');
}

export interface InstalledPlugin {
  version: string;
  path: string;
  /** It is exactly the plugin this nfhot ships. */
  current: boolean;
}

export interface PluginStatus {
  /** The plugins directory looked in. */
  dir: string;
  /** This nfhot's plugin: nf-hot@VERSION. */
  spec: string;
  /** Whether this nfhot has a built plugin to install. */
  shipped: boolean;
  installed: InstalledPlugin[];
}

const versionOf = (name: string) => (name.startsWith(`${PLUGIN_ID}-`) ? name.slice(PLUGIN_ID.length + 1) : undefined);

/** Every nf-hot in the plugins directory, and whether it is this nfhot's. */
export function pluginStatus(dir: string): PluginStatus {
  let shipped: string | undefined;
  try {
    shipped = shippedPlugin();
  } catch {
    shipped = undefined;
  }
  const mine = shipped && digestOf(shipped);
  const names = existsSync(dir) ? readdirSync(dir) : [];
  const installed = names.flatMap((name): InstalledPlugin[] => {
    const version = versionOf(name);
    const path = join(dir, name);
    if (!version || !statSync(path).isDirectory()) return [];
    return [{ version, path, current: version === packageVersion() && digestOf(path) === mine }];
  });
  return { dir, spec: pluginSpec(), shipped: Boolean(shipped), installed };
}

/**
 * Copies the shipped plugin into `dir` as nf-hot-VERSION (replacing one there): written beside it
 * and renamed, so a Nextflow starting meanwhile finds the old plugin or the new one, whole.
 */
export async function installPlugin(dir: string): Promise<{ path: string; replaced: boolean }> {
  const from = shippedPlugin();
  const path = join(dir, `${PLUGIN_ID}-${packageVersion()}`);
  const partial = join(dir, `.${PLUGIN_ID}-${packageVersion()}.${process.pid}.partial`);
  const old = join(dir, `.${PLUGIN_ID}-${packageVersion()}.${process.pid}.old`);
  const replaced = existsSync(path);
  try {
    await mkdir(dir, { recursive: true });
    await cp(from, partial, { recursive: true });
    if (replaced) await rename(path, old);
    await rename(partial, path);
  } catch (err) {
    throw new UserError(
      `cannot install the plugin into ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'check that the directory is writable, or give another: --nxf-home DIR',
    );
  } finally {
    await rm(partial, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
  return { path, replaced };
}

/** Removes every nf-hot from `dir`; the paths removed. */
export async function uninstallPlugin(dir: string): Promise<string[]> {
  const removed = pluginStatus(dir).installed.map((p) => p.path);
  for (const path of removed) await rm(path, { recursive: true, force: true });
  return removed;
}
