import { pluginRequires } from '../core/base/assets.js';
import type { Context } from '../core/base/context.js';
import { atLeast, nextflowTarget, versionNumbers, type NextflowTarget } from '../core/pipeline/syntax.js';
import {
  installPlugin,
  pluginsDir,
  pluginStatus,
  uninstallPlugin,
  type PluginStatus,
} from '../core/pipeline/plugin.js';

/** The Nextflow a run will use (the one on PATH), its parser, and whether this nf-hot loads on it. */
export interface PluginTarget extends NextflowTarget {
  /** The versions nf-hot loads on (its Plugin-Requires). */
  requires: string;
  /** Its version is in that range; undefined when there is no nextflow to tell. */
  supported?: boolean;
}

/** The versions nf-hot was checked against: by running it here, and by reading their source. */
export const PLUGIN_CHECKED = { run: ['24.10.6', '25.04.4'], read: ['25.10.x', '26.04.x', '26.08.0-edge'] };

export type PluginResult = (
  | ({ action: 'install'; path: string; replaced: boolean } & PluginStatus)
  | ({ action: 'uninstall'; removed: string[] } & PluginStatus)
  | ({ action: 'status' } & PluginStatus)
) & { nextflow: PluginTarget };

/** Whether nf-hot loads on `target`'s Nextflow (Plugin-Requires >=X, compared by number as Nextflow does). */
export function pluginTarget(target: NextflowTarget, requires = pluginRequires()): PluginTarget {
  const min = versionNumbers(requires);
  const supported = min ? atLeast(target.version, min) : undefined;
  return { ...target, requires, ...(supported !== undefined ? { supported } : {}) };
}

/** nfhot plugin install | uninstall | status, in Nextflow's plugins directory (or `nxfHome`'s). */
export async function plugin(
  action: 'install' | 'uninstall' | 'status',
  nxfHome: string | undefined,
  ctx: Context,
): Promise<PluginResult> {
  const dir = pluginsDir(nxfHome);
  const nextflow = pluginTarget(await nextflowTarget(ctx));
  if (action === 'install') {
    const done = await installPlugin(dir);
    return { action, ...done, ...pluginStatus(dir), nextflow };
  }
  if (action === 'uninstall') {
    const removed = await uninstallPlugin(dir);
    return { action, removed, ...pluginStatus(dir), nextflow };
  }
  return { action, ...pluginStatus(dir), nextflow };
}
