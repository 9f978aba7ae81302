import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Context } from '../core/context.js';
import { build, reuse } from '../core/patch/apply.js';
import { throwIfInterrupted, UsageError, UserError } from '../core/errors.js';
import { reap } from '../core/lock.js';
import { lineage, planPatch, type PatchPlan, type Target } from '../core/patch/plan.js';
import { probeImage } from '../core/probe.js';
import { chooseInterpreter, repositoryOf } from '../core/python.js';
import { fromLabels, normalizeName, type PatchRecord } from '../core/record.js';
import { activeRef, isNfhotRef, parseImageRef, registryTarget } from '../core/reference.js';
import { resolveSource } from '../core/resolve-source.js';
import { describeSource, parseSource, type ResolvedSource } from '../core/source.js';
import { mapLimit } from '../core/util.js';
import { buildSif, findSifProgram, requireSifProgram, sifCacheDir, type SifProgram } from '../core/singularity.js';
import { pipelineDir, scanPipeline, type PipelineModel } from '../core/pipeline/model.js';
import { checkIncludeWritable, updateInclude, type IncludeResult } from '../core/pipeline/include-file.js';
import { pushImages, type ImagePushResult } from './push.js';

export interface PatchOptions {
  source: string;
  images: string[];
  repo?: string;
  python?: string;
  noDeps?: boolean;
  dryRun?: boolean;
  /** Leave the image's own tag on the original: only the immutable reference (and the include) run the patch. */
  keepTag?: boolean;
  /** The pipeline whose nfhot.config to keep (default: the current directory when it is a pipeline). */
  pipeline?: string;
  /** Config profiles the pipeline is read with (default: `docker` when it defines one). */
  profiles?: string[];
  /** Add `includeConfig 'nfhot.config'` to nextflow.config when it is missing. */
  addInclude?: boolean;
  /** REGISTRY[/PREFIX] to push the derivatives to; the include then pins them by digest. */
  push?: string;
  /** Build each derivative's SIF file for Singularity/Apptainer (also done when the pipeline enables one of them and its program is on PATH). */
  singularity?: boolean;
}

export interface SkippedImage {
  image: string;
  why: string;
}

export interface ImagePatchResult {
  image: string;
  /** built: a new derivative; reused: an existing one re-tagged; unchanged: the tag already had it; planned: --dry-run. */
  action: 'built' | 'reused' | 'unchanged' | 'planned';
  derivative: string;
  original: string;
  python: string;
  pythonReason: string;
  replaces?: string;
  /** The patch set of the result (for a dry run: the patches kept, the new one not yet known). */
  patches: PatchRecord[];
  seconds: number;
}

export interface PatchResult {
  source: string;
  commit?: string;
  images: ImagePatchResult[];
  /** The pipeline's images that were not patched, and why. */
  skipped?: SkippedImage[];
  include?: IncludeResult;
  pushed?: ImagePushResult[];
  /** The SIF file of each image's derivative, and whether it was built now (else it was there). */
  sif?: { image: string; path: string; built: boolean }[];
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The image to patch as the daemon has it; undefined when the daemon does not have it. */
async function inspectTarget(ctx: Context, input: string): Promise<Target | undefined> {
  if (isNfhotRef(input)) throw new UserError(`${input} is one of nfhot's own references`, 'patch the image by the tag your pipeline uses');
  const ref = parseImageRef(input);
  const [current, activeImage] = await Promise.all([ctx.engine.inspectImage(ref.familiar), ctx.engine.inspectImage(activeRef(ref))]);
  if (!current) return undefined;
  const claimed = fromLabels(current.labels)?.derivative;
  const derivative = claimed ? await ctx.engine.inspectImage(claimed).catch(() => undefined) : undefined;
  const { originalId, active } = lineage(ref.familiar, current, activeImage, derivative?.id);
  const original = originalId === current.id ? current : await ctx.engine.inspectImage(originalId);
  if (!original) {
    throw new UserError(`the original image of ${ref.familiar} (${originalId.slice(7, 19)}) is gone`, `rebuild or pull ${ref.familiar}; nfhot will take the new image as the original`);
  }
  return { ref, current, original, active, ...(activeImage ? { activeId: activeImage.id } : {}) };
}

async function findTarget(ctx: Context, input: string): Promise<Target> {
  const target = await inspectTarget(ctx, input);
  if (!target) {
    const familiar = parseImageRef(input).familiar;
    throw new UserError(`image ${familiar} is not in the local Docker daemon`, `pull or build it first (docker pull ${familiar})`);
  }
  return target;
}

/** A file:// repository recorded inside an image may not exist on this machine. */
function reachable(url: string): boolean {
  return !url.startsWith('file://') || isDirectory(fileURLToPath(url));
}

/** NAME@REF without --repo: the repository recorded by the distribution installed in the images. */
async function discoverRepository(ctx: Context, targets: Target[], name: string, python: string | undefined): Promise<string> {
  for (const t of targets) {
    // The tagged image first: a patched one records where its patch came from.
    for (const imageId of new Set([t.current.id, t.original.id])) {
      for (const env of await probeImage(ctx.engine, imageId, t.ref.familiar, normalizeName(name), python)) {
        const url = env.dist && repositoryOf(env.dist);
        if (url && reachable(url)) {
          ctx.report.info(`${name}: repository ${url} (from its metadata in ${t.ref.familiar})`);
          return url;
        }
      }
    }
  }
  throw new UserError(
    `cannot tell where ${name}'s repository is: its metadata in ${targets.map((t) => t.ref.familiar).join(', ')} names none that nfhot can reach`,
    `give it: nfhot patch ${name}@REF --repo URL, or nfhot patch git+URL@REF`,
  );
}

async function patchOne(ctx: Context, target: Target, source: ResolvedSource, options: PatchOptions, at: string): Promise<ImagePatchResult> {
  const started = performance.now();
  const envs = await probeImage(ctx.engine, target.original.id, target.ref.familiar, source.package, options.python);
  const interpreter = chooseInterpreter(envs, target.ref.familiar, source.package, options.python);
  const plan = planPatch(target, source, interpreter, options.noDeps ?? false);
  // The derivative of this exact patch set may exist already: then pip need not run again.
  const existing = await ctx.engine.inspectImage(plan.derivative);
  const record = existing && fromLabels(existing.labels);
  const reusable = existing && record?.original === plan.originalId ? { id: existing.id, patches: record.patches } : undefined;
  const result = (action: ImagePatchResult['action'], patches: PatchRecord[]): ImagePatchResult => ({
    image: plan.image,
    action,
    derivative: plan.derivative,
    original: plan.originalId,
    python: plan.python,
    pythonReason: plan.pythonReason,
    ...(plan.replaces ? { replaces: `${plan.replaces.package} ${plan.replaces.version} from ${plan.replaces.source}` } : {}),
    patches,
    seconds: (performance.now() - started) / 1000,
  });
  // Already in place: the tag (or, with --keep-tag, nfhot's active reference) names this derivative.
  const inPlace = options.keepTag
    ? target.activeId === reusable?.id && target.current.id === target.original.id
    : target.current.id === reusable?.id && target.activeId === undefined;
  if (reusable && inPlace) {
    ctx.report.info(`${plan.image}: already patched with this (${plan.derivative}); nothing to do`);
    return result(options.dryRun ? 'planned' : 'unchanged', reusable.patches);
  }
  describePlan(ctx, plan, reusable !== undefined);
  if (options.dryRun) return result('planned', reusable?.patches ?? plan.keeps);
  if (reusable) {
    await reuse(ctx, plan, target, reusable.id, options.keepTag ?? false);
    return result('reused', reusable.patches);
  }
  throwIfInterrupted(ctx.signal);
  if (plan.externallyManaged) ctx.report.warn(`${plan.python} in ${plan.image} is EXTERNALLY-MANAGED (PEP 668); patching it anyway, as it is your image`);
  const built = await build(ctx, plan, target, source, at, options.keepTag ?? false);
  return result('built', built.patches);
}

function describePlan(ctx: Context, plan: PatchPlan, reusable: boolean): void {
  ctx.report.info(`${plan.image}: Python ${plan.pythonVersion} at ${plan.python} (${plan.pythonReason})`);
  if (plan.replaces) ctx.report.info(`${plan.image}: replaces the patch of ${plan.replaces.package} ${plan.replaces.version} (${plan.replaces.source})`);
  for (const k of plan.keeps) ctx.report.info(`${plan.image}: keeps the patch of ${k.package} ${k.version} (${k.source})`);
  if (reusable) ctx.report.info(`${plan.image}: ${plan.derivative} already holds this patch set; pip will not run`);
}

/** The pipeline's images that hold `dist`; the others are named with the reason they were skipped. */
async function pipelineTargets(ctx: Context, model: PipelineModel, dist: string, python: string | undefined): Promise<{ targets: Target[]; skipped: SkippedImage[] }> {
  for (const i of model.instances) {
    if (i.container?.kind === 'unresolved') {
      ctx.report.warn(`${i.fqn ?? i.alias}: container ${i.container.text.replace(/\s+/g, ' ')} (${i.container.from}): ${i.container.why}; if it runs ${dist}, name its image with --image`);
    }
  }
  const images = [...new Set(model.instances.flatMap((i) => (i.container?.kind === 'image' ? [i.container.image] : [])))].sort();
  const skipped: SkippedImage[] = [];
  const found = await mapLimit(images, availableParallelism(), async (image): Promise<Target | undefined> => {
    const target = await inspectTarget(ctx, image);
    if (!target) {
      skipped.push({ image, why: 'not in the local Docker daemon (pull or build it to patch it)' });
      return undefined;
    }
    const envs = await probeImage(ctx.engine, target.original.id, target.ref.familiar, dist, python);
    if (envs.some((e) => e.dist)) return target;
    skipped.push({ image, why: `it has no ${dist}` });
    return undefined;
  });
  for (const s of skipped) ctx.report.info(`skipped ${s.image}: ${s.why}`);
  const targets = found.filter((t): t is Target => t !== undefined);
  if (targets.length === 0) {
    throw new UserError(`none of the pipeline's images has ${dist} (${images.length} looked at)`, 'build or pull the images first, or name one with --image');
  }
  return { targets, skipped };
}

/**
 * The program to build SIF files with: asked for with --singularity (an error now, before anything
 * changes, when there is none), or because the pipeline enables Singularity/Apptainer.
 */
function sifProgram(ctx: Context, model: PipelineModel | undefined, asked: boolean): SifProgram | undefined {
  const enabled = model?.sif.enabled;
  if (asked) return requireSifProgram(enabled);
  const found = enabled && findSifProgram(enabled);
  if (enabled && !found) ctx.report.info(`the pipeline enables ${enabled}, but neither singularity nor apptainer is on PATH: no SIF file will be built`);
  return found || undefined;
}

/** The SIF file of each derivative, in Nextflow's cache directory for that engine. */
async function buildSifs(ctx: Context, images: ImagePatchResult[], model: PipelineModel | undefined, { engine, program }: SifProgram): Promise<PatchResult['sif']> {
  const dir = sifCacheDir(engine, model?.dir ?? process.cwd(), model?.sif ?? { cacheDir: {} });
  const built: NonNullable<PatchResult['sif']> = [];
  for (const i of images) {
    const sif = await ctx.report.step(`${i.image}: ${engine} image`, () => buildSif(ctx.programs, program, i.derivative, dir, (line) => ctx.report.info(`  ${engine}| ${line}`)));
    ctx.report.info(`${i.image}: ${sif.built ? 'built' : 'already had'} ${sif.path}`);
    built.push({ image: i.image, ...sif });
  }
  return built;
}

export async function patch(options: PatchOptions, ctx: Context): Promise<PatchResult> {
  const spec = parseSource(options.source, isDirectory);
  if (options.push !== undefined) registryTarget(options.push); // a bad registry fails before anything changes
  if (options.repo !== undefined && spec.kind !== 'name') throw new UsageError('--repo applies to a NAME@REF source only');
  if (options.repo !== undefined && (options.repo === '' || options.repo.startsWith('-') || /[\x00-\x20]/.test(options.repo))) {
    throw new UsageError(`invalid --repo ${JSON.stringify(options.repo)}: a repository URL or path cannot be empty, start with "-" or contain whitespace`, 'e.g. --repo https://github.com/org/pkg.git, or --repo /srv/git/pkg.git');
  }
  const dir = pipelineDir(options.pipeline);
  if (options.images.length === 0 && !dir) {
    throw new UsageError('no image to patch', 'name it with --image IMAGE, or run in (or point --pipeline at) the pipeline, whose images nfhot then finds');
  }
  // The source is fetched on the host while the daemon is asked about the images (NAME@REF must wait for the images' metadata).
  const resolving = (repository?: string) => ctx.report.step(`resolving ${describeSource(spec)}`, () => resolveSource(spec, ctx.git, repository));
  const early = spec.kind === 'name' ? undefined : resolving();
  early?.catch(() => undefined); // awaited below; an image error may come first
  await ctx.engine.ping();
  // What crashed runs left is removed alongside (a stale lock in our way is taken back by acquireLock itself).
  const reaping = options.dryRun ? Promise.resolve([]) : reap(ctx.engine).catch(() => []);
  const model = dir ? await ctx.report.step(`reading the pipeline in ${dir}`, () => scanPipeline(dir, options.profiles)) : undefined;
  if (model && !options.dryRun) await checkIncludeWritable(model.dir);
  const sifBuilder = options.dryRun ? undefined : sifProgram(ctx, model, options.singularity ?? false);
  let targets: Target[] = [];
  let skipped: SkippedImage[] = [];
  for (const target of await Promise.all(options.images.map((input) => findTarget(ctx, input)))) {
    if (!targets.some((t) => t.ref.familiar === target.ref.familiar)) targets.push(target);
  }
  // Without --image, the images are the pipeline's that hold the package: known from NAME@REF, else once the source is read.
  if (!targets.length && spec.kind === 'name') ({ targets, skipped } = await pipelineTargets(ctx, model!, normalizeName(spec.name), options.python));
  const source = spec.kind === 'name' ? await resolving(options.repo ?? (await discoverRepository(ctx, targets, spec.name, options.python))) : await early!;
  ctx.report.info(`source: ${source.package ?? 'a Python project'} at ${source.kind === 'git' ? `commit ${source.commit}` : `tree ${source.tree.tree}${source.dirty ? ' (uncommitted changes included)' : ''}`}`);
  if (!targets.length) {
    if (!source.package) throw new UserError(`cannot tell which of the pipeline's images to patch: ${source.display} does not name its package statically`, 'name the images with --image');
    ({ targets, skipped } = await pipelineTargets(ctx, model!, source.package, options.python));
  }
  throwIfInterrupted(ctx.signal);
  const at = new Date().toISOString();
  const images = await mapLimit(targets, availableParallelism(), (t) => patchOne(ctx, t, source, options, at));
  const pushed = options.push && !options.dryRun ? await pushImages(ctx, images.map((i) => i.image), options.push) : undefined;
  const sif = sifBuilder && (await buildSifs(ctx, images, model, sifBuilder));
  const include = model && (await updateInclude(ctx, model, options));
  await reaping;
  return { source: source.display, ...(source.commit ? { commit: source.commit } : {}), images, ...(skipped.length ? { skipped } : {}), ...(include ? { include } : {}), ...(pushed ? { pushed } : {}), ...(sif ? { sif } : {}) };
}
