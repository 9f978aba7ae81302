import type { ImageRollbackResult } from './commands/rollback.js';
import type { StatusEntry } from './commands/status.js';

const short = (id: string | undefined) => (id ? id.replace(/^sha256:/, '').slice(0, 12) : 'none');

/** `nfhot status` for people: one block per image. */
export function formatStatus(images: StatusEntry[]): string {
  const blocks = images.map((s) => {
    const lines = [`${s.image}  ${s.state}  original ${short(s.originalId)}  now ${short(s.currentId)}`];
    if (s.derivative) lines.push(`  reference  ${s.derivative}`);
    for (const p of s.patches) {
      const where = p.commit ? `commit ${p.commit.slice(0, 12)}${p.dirty ? ' + uncommitted changes' : ''}` : `tree ${p.tree.slice(0, 12)}`;
      lines.push(`  ${p.package} ${p.version}  from ${p.source}${p.ref ? ` (${p.ref})` : ''}  ${where}  ${p.at}`);
    }
    if (s.warning) lines.push(`  warning: ${s.warning}`);
    return lines.join('\n');
  });
  return blocks.join('\n\n');
}

export function formatRollback(images: ImageRollbackResult[]): string {
  const what = { rolledBack: (r: ImageRollbackResult) => `restored ${short(r.original)}`, unchanged: () => 'not patched', refused: () => 'refused: re-pointed since the patch' };
  return images.map((r) => `${r.image}\t${what[r.action](r)}`).join('\n');
}
