import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import type { ImageConfig, LayerEntry } from '../../core/ports/engine.js';
import { historyFromApi, type HistoryItem } from './history.js';
import { collect } from './io.js';
import { type StreamedEntry, tarOf, tarStream, type TarEntry } from './tar.js';

/** A layer's entries as tar members: paths without the leading slash, a removal as an OCI whiteout (`.wh.NAME`). */
export function layerTar(entries: LayerEntry[]): Buffer {
  return tarOf(
    entries.map((e): TarEntry => {
      const path = e.path.replace(/^\/+/, '');
      if (e.kind === 'whiteout') {
        const slash = path.lastIndexOf('/');
        return { name: `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`, content: Buffer.alloc(0) };
      }
      return {
        name: path,
        dir: e.kind === 'dir',
        ...(e.kind === 'file' ? { content: e.content } : {}),
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        mtime: e.mtime,
      };
    }),
  );
}

/** A layer to load: its tar in memory, or streaming in (its size and digest known before). */
export type LayerData = { tar: Buffer } | { stream: AsyncIterable<Buffer>; size: number; diffId: string };

/**
 * Loads an image made of `baseId`'s layers, plus `layer` when given, with exactly `config`:
 * a `docker load` archive that carries only the config and the new layer (the daemon reuses the
 * layers it has), streamed to the daemon. Returns the new image's ID.
 */
export async function loadOnto(
  docker: Docker,
  baseId: string,
  config: ImageConfig,
  layer?: LayerData & { comment: string },
): Promise<string> {
  const image = docker.getImage(baseId);
  const [data, items] = (await Promise.all([image.inspect(), image.history()])) as [
    Docker.ImageInspectInfo & { Variant?: string },
    HistoryItem[],
  ];
  const diffIds = data.RootFS?.Layers ?? [];
  const history = historyFromApi(items, diffIds.length);
  const added =
    layer && ('tar' in layer ? `sha256:${createHash('sha256').update(layer.tar).digest('hex')}` : layer.diffId);
  const now = new Date().toISOString(); // the image and its new step were made at the same moment
  const raw = JSON.stringify({
    architecture: data.Architecture,
    os: data.Os,
    ...(data.Variant ? { variant: data.Variant } : {}),
    created: layer ? now : data.Created,
    config,
    rootfs: { type: 'layers', diff_ids: added ? [...diffIds, added] : diffIds },
    history: layer ? [...history, { created: now, created_by: 'nfhot', comment: layer.comment }] : history,
  });
  const hex = createHash('sha256').update(raw).digest('hex');
  // The base's layers are named but not carried: docker load finds them by their diff IDs.
  const layers = diffIds.map((_, i) => `layer-${i}.tar`);
  const manifest = [{ Config: `${hex}.json`, RepoTags: null, Layers: layer ? [...layers, 'added.tar'] : layers }];
  const members: (TarEntry | StreamedEntry)[] = [
    { name: 'manifest.json', content: Buffer.from(JSON.stringify(manifest)) },
    { name: `${hex}.json`, content: Buffer.from(raw) },
  ];
  if (layer)
    members.push(
      'tar' in layer
        ? { name: 'added.tar', content: layer.tar }
        : { name: 'added.tar', size: layer.size, stream: layer.stream },
    );
  const text = await collect(
    (await docker.loadImage(tarStream(members) as unknown as string, { quiet: true })) as NodeJS.ReadableStream,
  );
  const failure = /"error(?:Detail)?"\s*:\s*(?:\{"message":)?"([^"]+)"/.exec(text);
  if (failure) throw new Error(`docker load refused the image: ${failure[1]}`);
  return `sha256:${hex}`;
}
