import { installPlugin, pluginsDir, pluginStatus, uninstallPlugin, type PluginStatus } from '../core/plugin.js';

export type PluginResult =
  | ({ action: 'install'; path: string; replaced: boolean } & PluginStatus)
  | ({ action: 'uninstall'; removed: string[] } & PluginStatus)
  | ({ action: 'status' } & PluginStatus);

/** nfhot plugin install | uninstall | status, in Nextflow's plugins directory (or `nxfHome`'s). */
export async function plugin(action: 'install' | 'uninstall' | 'status', nxfHome?: string): Promise<PluginResult> {
  const dir = pluginsDir(nxfHome);
  if (action === 'install') {
    const done = await installPlugin(dir);
    return { action, ...done, ...pluginStatus(dir) };
  }
  if (action === 'uninstall') {
    const removed = await uninstallPlugin(dir);
    return { action, removed, ...pluginStatus(dir) };
  }
  return { action, ...pluginStatus(dir) };
}
