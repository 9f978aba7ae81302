import { matching, tokenize } from './lexer.js';
import { installedFrom, type PatchRecord } from '../image/record.js';
import { readImageRef } from '../image/reference.js';
import type { ImageState } from '../image/state.js';
import { normalizeDockerName } from './container.js';
import { includeTemplate } from '../base/assets.js';
import type { PipelineModel, ProcessInstance } from './model.js';

/** The processes that one `withName:` block points at a patched image. */
export interface Override {
  /** The image the processes run (as Docker names it). */
  image: string;
  /** What the include sets under Docker/Podman: the immutable reference, as Nextflow will ask for it. */
  reference: string;
  /** The patch set's SIF file (absolute path), when nfhot built one: what Singularity and Apptainer run. */
  sif?: string;
  /** Else, when the patch set is pushed: `docker://REGISTRY/…@sha256:…`, which Singularity and Apptainer pull and convert. */
  pull?: string;
  /** The processes' own setting, kept for every other engine. */
  fallback: string;
  selector: string;
  instances: ProcessInstance[];
  patches: PatchRecord[];
  /** Wave is on with conda first and the image is pushed: the include clears the processes' conda so that Wave takes the pushed image. */
  clearConda?: boolean;
}

export interface IncludePlan {
  overrides: Override[];
  /** Wave is on in the run's profiles and a patched image is only in the local daemon: the include switches Wave off (at the top, and in each of these profiles). */
  waveOff?: { profiles: string[] };
  /** Local tags Docker must have for the references to resolve (docker.registryOverride renames them). */
  aliases: { from: string; to: string }[];
  /**
   * Every profile the pipeline declares: the include declares them too (empty but for Wave), as
   * 25.04's strict parser refuses a -profile that the last config file it read (-c nfhot.config)
   * does not declare.
   */
  profiles: string[];
  notes: string[];
}

/**
 * What Wave builds a task's image from instead of its container (nf-wave's resolveConflicts: the
 * first of the strategy the task has wins): its conda or spack environment, or its module's
 * Dockerfile; null when the container comes first. nf-hot decides the same (test/shared).
 */
export function waveBuildsFrom(
  strategy: string[],
  has: { conda?: boolean; spack?: boolean; dockerfile?: boolean },
): string | null {
  for (const s of strategy) {
    if (s === 'container') return null;
    if ((s === 'conda' || s === 'spack') && has[s]) return `${s} environment`;
    if (s === 'dockerfile' && has.dockerfile) return 'module Dockerfile';
  }
  return null;
}

/** Under Wave with this strategy, a task with a conda environment gets an image Wave builds from it: its container is not used. */
export const condaFirst = (strategy: string[]): boolean => waveBuildsFrom(strategy, { conda: true }) !== null;

const namesOf = (i: ProcessInstance): string[] => [...new Set([i.name, i.alias, ...(i.fqn ? [i.fqn] : [])])];
const processKey = (i: ProcessInstance) => `${i.file}\0${i.name}`;

function matches(pattern: string, name: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(name);
}

/**
 * The narrowest-safe selector for a group of instances: by simple name (also as the last part of
 * any qualified name) and by qualified name; tightened while it would also select an instance
 * outside the group. Undefined when no selector can tell them apart.
 */
function selectorFor(group: ProcessInstance[], all: ProcessInstance[]): string | undefined {
  const inGroup = new Set(group);
  const outside = all.filter((i) => !inGroup.has(i));
  // A process's declared name is only safe when every instance of that process is in the group.
  const simple = new Set<string>();
  for (const i of group) {
    simple.add(i.alias);
    if (all.filter((a) => processKey(a) === processKey(i)).every((a) => inGroup.has(a))) simple.add(i.name);
  }
  const fqns = [...new Set(group.flatMap((i) => (i.fqn && i.fqn !== i.alias ? [i.fqn] : [])))].sort();
  const names = [...simple].sort();
  const candidates = [
    `(?:.*:)?(?:${names.join('|')})`, // also every qualified name ending in one of them
    [...names, ...fqns].join('|'),
    ...(group.every((i) => i.fqn && i.fqn !== i.alias) ? [fqns.join('|')] : []),
  ];
  return candidates.find((p) => p && outside.every((o) => namesOf(o).every((n) => !matches(p, n))));
}

/**
 * Which processes of the pipeline run an image that is patched now, and how the include selects
 * them; `sifs` maps a derivative to its SIF file.
 */
export function planInclude(
  model: PipelineModel,
  states: ImageState[],
  sifs: ReadonlyMap<string, string> = new Map(),
): IncludePlan {
  const patched = new Map(states.filter((s) => s.state === 'patched' && s.derivative).map((s) => [s.image, s]));
  const groups = new Map<
    string,
    { state: ImageState; image: string; fallback: string; instances: ProcessInstance[] }
  >();
  for (const i of model.instances) {
    if (i.container?.kind !== 'image') continue;
    const state = patched.get(readImageRef(i.container.image)?.familiar ?? '');
    if (!state) continue;
    const key = `${state.image}\0${i.container.text}`;
    const group = groups.get(key) ?? { state, image: i.container.image, fallback: i.container.text, instances: [] };
    group.instances.push(i);
    groups.set(key, group);
  }
  const plan: IncludePlan = { overrides: [], aliases: [], profiles: model.availableProfiles, notes: [] };
  for (const g of groups.values()) {
    const selector = selectorFor(g.instances, model.instances);
    const label = g.instances.map((i) => i.fqn ?? i.alias).join(', ');
    if (!selector) {
      plan.notes.push(
        `cannot select ${label} without also selecting other processes: they keep ${g.image} under its own tag`,
      );
      continue;
    }
    // Pushed: the registry's copy, pinned by digest, which workers elsewhere can pull. Else with
    // docker.registryOverride Nextflow replaces the host of every name: give it one it maps onto itself.
    let reference = g.state.pushed?.[0] ?? g.state.derivative!;
    if (g.state.pushed && model.registryOverride) {
      plan.notes.push(
        `${label}: docker.registryOverride replaces the host of ${reference}; push to ${model.registry ?? 'docker.registry'} for it to resolve`,
      );
    } else if (model.registryOverride && model.registry) {
      reference = `${model.registry.replace(/\/+$/, '')}/${reference}`;
      plan.aliases.push({ from: g.state.derivative!, to: normalizeDockerName(reference, model.registry, true) });
    }
    const sif = sifs.get(g.state.derivative!);
    const pushed = g.state.pushed?.[0];
    plan.overrides.push({
      image: g.image,
      reference,
      ...(sif ? { sif } : pushed ? { pull: `docker://${pushed}` } : {}),
      fallback: g.fallback,
      selector,
      instances: g.instances,
      patches: g.state.patches,
    });
  }
  plan.overrides.sort((a, b) => a.selector.localeCompare(b.selector));
  const wave = model.run.wave;
  if (wave && (model.run.engine === 'docker' || model.run.engine === 'podman')) {
    if (plan.overrides.some((o) => !o.reference.includes('@sha256:'))) plan.waveOff = { profiles: model.waveProfiles };
    else if (condaFirst(wave.strategy))
      for (const o of plan.overrides) if (o.instances.some((i) => i.conda)) o.clearConda = true;
  }
  return plan;
}

const comment = (text: string) => text.replace(/[\r\n]+/g, ' ');
/** A single-quoted Groovy string (no interpolation) holding exactly `text`. */
const groovyString = (text: string) =>
  `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;

/** A container setting as an expression inside the include's closure: a closure setting (`{ … }`) gives its body. */
function asExpression(text: string): string {
  const tokens = tokenize(text).filter((t) => t.type !== 'newline');
  if (tokens[0]?.value !== '{' || matching(tokens, 0) !== tokens.length - 1) return text.trim();
  const arrow = tokens.findIndex((t) => t.value === '->');
  const body = text
    .slice(
      (arrow > 0 && tokens.slice(1, arrow).every((t) => t.type === 'ident') ? tokens[arrow]! : tokens[0]!).end,
      tokens[tokens.length - 1]!.start,
    )
    .trim();
  return `(${body})`;
}

/** Where a process's reference under Docker and Podman stands in the include. */
const DOCKER_BRANCH = "workflow.containerEngine in ['docker', 'podman'] ? ";

/** A profile's name as a config block's name. */
const blockName = (name: string) => (/^[A-Za-z_]\w*$/.test(name) ? name : groovyString(name));

/**
 * The include as Nextflow config (valid for both parsers: blocks, assignments, closures): the
 * shipped template (nextflow/nfhot.config, an include that overrides nothing) with its last line,
 * which says so, replaced by the overrides when there are any; then the pipeline's profiles.
 */
export function renderInclude(plan: IncludePlan, template = includeTemplate()): string {
  const nothing = template.lastIndexOf('// Nothing is patched');
  if (plan.overrides.length === 0 || nothing < 0) return withProfiles(template.trimEnd().split('\n'), plan);
  const lines = [`${template.slice(0, nothing).trimEnd()}\n`, 'process {'];
  for (const o of plan.overrides) {
    const sif = o.sif ?? o.pull;
    lines.push(`    // ${o.image} → ${o.reference}${sif ? ` (Singularity/Apptainer: ${comment(sif)})` : ''}`);
    for (const p of o.patches) {
      lines.push(
        `    //   ${comment(`${p.package} ${p.version} from ${p.source}${p.ref ? ` (${p.ref})` : ''}, ${installedFrom(p)}, patched ${p.at}`)}`,
      );
    }
    lines.push(`    //   for ${comment(o.instances.map((i) => i.fqn ?? i.alias).join(', '))}`);
    lines.push(`    withName: '${o.selector}' {`);
    lines.push(
      `        container = { ${DOCKER_BRANCH}'${o.reference}' : ${sif ? `workflow.containerEngine in ['singularity', 'apptainer'] ? ${groovyString(sif)} : ` : ''}${asExpression(o.fallback)} }`,
    );
    if (o.clearConda) {
      lines.push(
        "        // Wave's strategy puts conda first: without a conda environment it takes the pushed image above.",
      );
      lines.push('        conda = null');
    }
    lines.push('    }');
  }
  lines.push('}');
  if (plan.waveOff) {
    lines.push(
      '',
      "// Wave is on in this run's profiles, and the Wave service cannot pull an image from this",
      "// machine's Docker daemon: switched off here, every task runs its own container directly (the",
      '// first run after this re-runs the tasks Wave ran). `nfhot push` the patched images to a',
      '// registry Wave can reach to keep it on. Set in each profile that turns it on (below), then at',
      "// the top (Nextflow's two config parsers apply profiles at different points; the profiles first,",
      "// as under the first parser a top-level `wave` written before would take a `wave` profile's",
      '// setting); -c nfhot.config or NXF_DISABLE_WAVE_SERVICE=1 make sure of it.',
    );
  }
  return withProfiles(lines, plan);
}

/** The lines, then the pipeline's profiles (Wave switched off in those that turn it on), then Wave off at the top. */
function withProfiles(lines: string[], plan: IncludePlan): string {
  const off = plan.waveOff?.profiles ?? [];
  const profiles = [...new Set([...plan.profiles, ...off])];
  if (profiles.length) {
    lines.push(
      '',
      "// The pipeline's profiles, declared here too: with -c nfhot.config, Nextflow 25.04's strict parser knows",
      '// only the profiles of the last config file it reads.',
      'profiles {',
    );
    for (const p of profiles)
      lines.push(`    ${blockName(p)} {`, ...(off.includes(p) ? ['        wave.enabled = false'] : []), '    }');
    lines.push('}');
  }
  if (plan.waveOff) lines.push('wave.enabled = false');
  return `${lines.join('\n')}\n`;
}

/** The container references an include written by nfhot gives Docker and Podman. */
export function includeReferences(text: string): string[] {
  const at = new RegExp(`${DOCKER_BRANCH.replace(/[[\]?.]/g, '\\$&')}'([^']+)'`, 'g');
  return [...text.matchAll(at)].map((m) => m[1]!);
}
