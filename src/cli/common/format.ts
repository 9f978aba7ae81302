import type { KeptIncludeEntry } from '../../commands/config.js';
import type { DiffResult } from '../../commands/diff.js';
import { PLUGIN_CHECKED, type PluginResult } from '../../commands/plugin.js';
import type { RerunResult } from '../../commands/rerun.js';
import type { ImageRollbackResult } from '../../commands/rollback.js';
import type { StatusEntry } from '../../commands/status.js';
import { installedFrom } from '../../core/image/record.js';
import { shortId } from '../../core/image/reference.js';
import type { ContainerValue } from '../../core/pipeline/container.js';
import type { PipelineModel } from '../../core/pipeline/model.js';
import type { IncludeResult } from '../../core/pipeline/include-file.js';

const short = (id: string | undefined) => (id ? shortId(id) : 'none');

/** `nfhot status` for people: one block per image. */
export function formatStatus(images: StatusEntry[]): string {
  const blocks = images.map((s) => {
    const mode = s.mode === 'keep-tag' ? ' (--keep-tag: the tag stays on the original)' : '';
    const lines = [`${s.image}  ${s.state}${mode}  original ${short(s.originalId)}  now ${short(s.currentId)}`];
    if (s.derivative) lines.push(`  reference  ${s.derivative}`);
    for (const p of s.pushed ?? []) lines.push(`  pushed     ${p}`);
    for (const p of s.patches) {
      lines.push(
        `  ${p.package} ${p.version}  from ${p.source}${p.ref ? ` (${p.ref})` : ''}  ${installedFrom(p)}  ${p.at}`,
      );
    }
    if (s.warning) lines.push(`  warning: ${s.warning}`);
    return lines.join('\n');
  });
  return blocks.join('\n\n');
}

export function formatRollback(images: ImageRollbackResult[]): string {
  const what = {
    rolledBack: (r: ImageRollbackResult) => `restored ${short(r.original)}`,
    unchanged: () => 'not patched',
  };
  return images.map((r) => `${r.image}\t${what[r.action](r)}`).join('\n');
}

/** `nfhot config` for people: each process, the executor it runs on, the image it runs, and where the include points it. */
export function formatModel(model: PipelineModel, include: IncludeResult): string {
  const rows = model.instances.map((i) => {
    const name = i.fqn ?? i.alias;
    const override = include.overrides.find((o) => o.processes.includes(name));
    const show = (c: ContainerValue | null | undefined) =>
      !c ? '(no container)' : c.kind === 'image' ? c.image : `? ${c.why}: ${c.text.replace(/\s+/g, ' ')}`;
    // Under Singularity and the like: what that engine runs, and the Docker image a patch replaces.
    const image =
      i.runs === undefined
        ? show(i.container)
        : `${show(i.runs)}${i.container?.kind === 'image' && i.runs?.kind === 'image' && i.runs.image !== i.container.image ? `  (Docker: ${i.container.image})` : ''}`;
    return [
      name,
      i.executor.name ?? '?',
      `${image}${i.uncalled ? '  (not called)' : ''}`,
      override ? `→ ${override.reference}` : '',
    ];
  });
  const width = Math.max(7, ...rows.map((r) => r[0]!.length));
  const ew = Math.max(...rows.map((r) => r[1]!.length));
  const lines = [
    `pipeline ${model.dir}  profiles: ${model.profiles.join(',') || '(none)'}${model.registry ? `  ${model.run.engine === 'podman' ? 'podman' : 'docker'}.registry: ${model.registry}` : ''}`,
  ];
  for (const [name, executor, image, override] of rows)
    lines.push(`${name!.padEnd(width)}  ${executor!.padEnd(ew)}  ${image}${override ? `  ${override}` : ''}`);
  // An executor nfhot cannot evaluate: what it depends on.
  for (const i of model.instances.filter((i) => !i.executor.name))
    lines.push(`${i.fqn ?? i.alias}: executor ? (${i.executor.unknown}, ${i.executor.from})`);
  lines.push(
    `${include.path}: ${include.overrides.length ? `${include.overrides.length} override(s)` : 'overrides nothing'}${include.written ? '' : ' (not written)'}${include.included ? '' : '; not yet included by nextflow.config'}`,
  );
  if (include.verdicts.length) {
    const run = model.run;
    const how = [
      run.engine ?? 'no container engine',
      ...(run.conda ? ['conda'] : []),
      ...(run.wave ? [`Wave (${run.wave.strategy.join(',')})`] : []),
    ].join(', ');
    lines.push(`a run with ${model.profiles.length ? `-profile ${model.profiles.join(',')}` : 'no profile'} (${how}):`);
    const pw = Math.max(...include.verdicts.map((v) => v.process.length));
    for (const v of include.verdicts)
      lines.push(
        `  ${v.process.padEnd(pw)}  ${v.uses ? `uses the patch: ${v.runs}` : 'does NOT use the patch'} (${v.why})`,
      );
    const plugin = include.verdicts.filter((v) => v.plugin);
    if (plugin.length)
      lines.push(
        'with nf-hot, the plugin, and no include:',
        ...plugin.map((v) => `  ${v.process.padEnd(pw)}  ${v.plugin}`),
      );
  }
  return lines.join('\n');
}

/** `nfhot config --list` for people: each include nfhot keeps, and what it points at. */
export function formatIncludes(includes: KeptIncludeEntry[]): string {
  if (!includes.length) return '(nfhot keeps no include yet: patch, or run nfhot config, in a pipeline)';
  return includes
    .map((k) => {
      const what =
        k.references === undefined
          ? 'gone (dropped at the next patch or rollback)'
          : k.references.length
            ? k.references.join(', ')
            : 'overrides nothing';
      return `${k.path}  [${k.engine}${k.profiles.length ? `, profiles ${k.profiles.join(',')}` : ''}]  ${what}`;
    })
    .join('\n');
}

/** After `nfhot rerun`: how the task ended, and where its outputs are. */
export function formatRerun(r: RerunResult): string {
  const how = r.stopped
    ? `was stopped (exit code ${r.exitCode})`
    : r.exitCode === 0
      ? 'passed'
      : `failed with exit code ${r.exitCode}`;
  const outputs = r.outputs.length ? `; outputs in ${r.ranIn}: ${r.outputs.join(', ')}` : `; no outputs in ${r.ranIn}`;
  return `nfhot: the task ${how} with ${r.patched ? `the patch (${r.reference})` : `${r.reference}, not patched`}${outputs}\n`;
}

/** `nfhot diff` for people: the packages, then the files (A added, M changed, D removed). */
export function formatDiff(d: DiffResult): string {
  const lines = [`${d.image}: original ${shortId(d.original)} → ${d.derivative}`];
  for (const p of d.packages) {
    const versions = `${p.before ?? '(none)'} → ${p.after ?? '(removed)'}`;
    const why = p.source ? `  from ${p.source} (${p.from})` : '  (a requirement of the patch)';
    lines.push(`  ${p.name} ${versions}${p.editableBefore ? ' (was an editable install)' : ''}${why}`);
  }
  const { added, changed, removed } = d.files;
  lines.push(`files: ${changed.length} changed, ${added.length} added, ${removed.length} removed`);
  for (const [mark, paths] of [
    ['M', changed],
    ['A', added],
    ['D', removed],
  ] as const)
    for (const p of paths) lines.push(`  ${mark} ${p}`);
  return lines.join('\n');
}

/** What plugin install, uninstall and status say, a line each. */
export function formatPlugin(r: PluginResult): string[] {
  const lines: string[] = [];
  if (r.action === 'install')
    lines.push(
      `${r.replaced ? 'replaced' : 'installed'} ${r.spec} in ${r.path}`,
      `run: nextflow run PIPELINE -plugins ${r.spec}   (or in its config: plugins { id '${r.spec}' })`,
    );
  if (r.action === 'uninstall')
    lines.push(r.removed.length ? r.removed.map((p) => `removed ${p}`).join('\n') : `no nf-hot in ${r.dir}`);
  if (r.action !== 'status') return lines;
  if (!r.installed.length)
    lines.push(`nf-hot is not installed in ${r.dir}${r.shipped ? `: nfhot plugin install` : ''}`);
  for (const p of r.installed) {
    lines.push(
      `nf-hot ${p.version} in ${p.path}: ${p.current ? "this nfhot's" : `not this nfhot's (${r.spec})${r.shipped ? ': nfhot plugin install' : ''}`}`,
    );
  }
  if (!r.shipped)
    lines.push('this nfhot was built without its plugin (no JDK or Maven at its build): nothing to install');
  const n = r.nextflow;
  const on = n.version
    ? `the nextflow on PATH is ${n.version} (${n.syntax === 'v2' ? 'strict parser, v2' : 'first parser, v1'}: ${n.why})`
    : 'no nextflow on PATH';
  const loads =
    n.supported === undefined
      ? ''
      : n.supported
        ? ': nf-hot loads on it'
        : ': nf-hot does not load on it (Nextflow refuses the plugin)';
  lines.push(
    `nf-hot needs Nextflow ${n.requires} (run with ${PLUGIN_CHECKED.run.join(' and ')}; read from the source of ${PLUGIN_CHECKED.read.join(', ')}); ${on}${loads}`,
  );
  return lines;
}
