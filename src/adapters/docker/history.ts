/** One line of `docker history` as the Engine API gives it (newest first there). */
export interface HistoryItem {
  Created: number;
  CreatedBy: string;
  Comment: string;
  Size: number;
}

export interface HistoryEntry {
  created: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

const METADATA_STEP =
  /^(\/bin\/sh -c #\(nop\)\s*)?(ARG|CMD|ENTRYPOINT|ENV|EXPOSE|HEALTHCHECK|LABEL|MAINTAINER|ONBUILD|SHELL|STOPSIGNAL|USER|VOLUME|WORKDIR)\b/;

/**
 * Rebuilds an image config's `history` (oldest first) from the history API, which does not say
 * which steps made no layer. Steps with a size made one; of the empty ones, those that do not
 * look like metadata instructions are taken first, so exactly `layerCount` steps own a layer.
 */
export function historyFromApi(items: HistoryItem[], layerCount: number): HistoryEntry[] {
  const steps = [...items].reverse();
  const owns = steps.map((s) => s.Size > 0);
  let missing = layerCount - owns.filter(Boolean).length;
  for (const metadataLike of [false, true]) {
    for (let i = steps.length - 1; i >= 0 && missing > 0; i--) {
      if (!owns[i] && METADATA_STEP.test(steps[i]!.CreatedBy) === metadataLike) {
        owns[i] = true;
        missing--;
      }
    }
  }
  return steps.map((s, i) => ({
    created: new Date(s.Created * 1000).toISOString(),
    ...(s.CreatedBy ? { created_by: s.CreatedBy } : {}),
    ...(s.Comment ? { comment: s.Comment } : {}),
    ...(owns[i] ? {} : { empty_layer: true }),
  }));
}
