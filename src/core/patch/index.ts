// The patch as a library: plan (read the source and the images, decide per image: nothing to do,
// move tags, or install), then apply. The CLI's `patch` and the watcher both call these.
import { availableParallelism } from 'node:os';
import type { Context } from '../base/context.js';
import { imageFailure, UserError, type ImageFailure } from '../base/errors.js';
import type { PipelineModel } from '../pipeline/model.js';
import { probeImage } from '../interpreter/probe.js';
import { hostPipWheel } from '../interpreter/pip-wheel.js';
import { chooseInterpreter, type Interpreter } from '../interpreter/python.js';
import { normalizeName, type PatchRecord } from '../image/record.js';
import { shortId } from '../image/reference.js';
import { resolveSource } from '../source/resolve-source.js';
import { hostPipSettings } from '../interpreter/pip-settings.js';
import { describeSource, describeVcs, type ResolvedSource, type SourceSpec } from '../source/source.js';
import { mapLimit } from '../base/util.js';
import { applyPatch, type Applied } from './apply.js';
import { derivativeOf, planPatch, type PatchPlan, type PipWheel, type Target } from './plan.js';
import { discoverRepository } from './repository.js';
import { planSync } from './sync.js';
import { findTarget, pipelineTargets, type SkippedImage } from './targets.js';

export interface PatchRequest {
  source: SourceSpec;
  /** The source already being fetched or snapshotted (see resolveEarly), for a caller that starts it before it asks the daemon anything. */
  resolving?: Promise<ResolvedSource>;
  /** Images named by the user; none: the pipeline's images that have the package. */
  images: string[];
  /** The pipeline, read: where its images are found when none is named. */
  model?: PipelineModel;
  /** Repository of a NAME@REF source. */
  repo?: string;
  python?: string;
  noDeps: boolean;
  /** Fail when a module the install put in place does not compile. */
  checkSyntax?: boolean;
  keepTag: boolean;
}

/** One image's plan, or why it cannot be patched. */
export type ImagePlan = { image: string; plan: PatchPlan } | { image: string; failure: unknown };

export interface PatchSetPlan {
  source: ResolvedSource;
  images: ImagePlan[];
  /** The pipeline's images that were not looked at further, and why. */
  skipped: SkippedImage[];
}

export interface ImagePatchResult {
  image: string;
  /** built: a new derivative, installed; synced: a new derivative, changed files written over the full install; reused: an existing one re-tagged; unchanged: the tag already had it; planned: not applied (dry run). */
  action: Applied | 'planned';
  derivative: string;
  original: string;
  python: string;
  pythonReason: string;
  replaces?: string;
  /** The patch set of the result (for a dry run: the patches kept, the new one not yet known). */
  patches: PatchRecord[];
  seconds: number;
}

const resolving = (ctx: Context, spec: SourceSpec, repository?: string) =>
  ctx.report.step(`resolving ${describeSource(spec)}`, () => resolveSource(spec, ctx.git, repository));

/**
 * Starts fetching (or snapshotting) the source on the host, to run while the daemon is asked
 * about the images; undefined for NAME@REF, whose repository the images' metadata may name.
 */
export function resolveEarly(ctx: Context, spec: SourceSpec): Promise<ResolvedSource> | undefined {
  if (spec.kind === 'name') return undefined;
  const early = resolving(ctx, spec);
  early.catch(() => undefined); // awaited by planPatches; an image error may come first
  return early;
}

/**
 * Works out what a patch will do, changing nothing: the source as an exact tree, the images and,
 * for each, the interpreter, the patch set, its reference and whether pip must run.
 */
export async function planPatches(ctx: Context, request: PatchRequest): Promise<PatchSetPlan> {
  const { source: spec } = request;
  const early = request.resolving ?? resolveEarly(ctx, spec);
  let targets: Target[] = [];
  let skipped: SkippedImage[] = [];
  for (const target of await Promise.all(request.images.map((input) => findTarget(ctx, input)))) {
    if (!targets.some((t) => t.ref.familiar === target.ref.familiar)) targets.push(target);
  }
  // Without images named, the images are the pipeline's that hold the package: known from NAME@REF, else once the source is read.
  if (!targets.length && spec.kind === 'name')
    ({ targets, skipped } = await pipelineTargets(ctx, request.model!, normalizeName(spec.name), request.python));
  const source =
    spec.kind === 'name'
      ? await resolving(ctx, spec, request.repo ?? (await discoverRepository(ctx, targets, spec.name, request.python)))
      : await early!;
  ctx.report.info(
    `source: ${source.package ?? 'a Python project'} at ${source.kind === 'git' ? `commit ${source.commit}` : `tree ${source.tree.tree}${source.dirty ? ' (uncommitted changes included)' : ''}`}`,
  );
  sayVcs(ctx, source);
  const pip = hostPipSettings();
  if (pip.said.length)
    ctx.report.info(
      `pip in the work container uses this machine's settings for its index: ${pip.said.join('; ')}${pip.loopback.length ? `; the work container runs on the host's network to reach ${pip.loopback.join(', ')}` : ''}`,
    );
  if (pip.skipped.length) ctx.report.info(`not handed to pip in the image: ${pip.skipped.join('; ')}`);
  if (!targets.length) {
    if (!source.package)
      throw new UserError(
        `cannot tell which of the pipeline's images to patch: ${source.display} does not name its package statically`,
        'name the images with --image',
      );
    ({ targets, skipped } = await pipelineTargets(ctx, request.model!, source.package, request.python));
  }
  const images = await mapLimit(targets, availableParallelism(), async (target): Promise<ImagePlan> => {
    try {
      const envs = await probeImage(ctx.engine, target.original, target.ref.familiar, source.package, request.python);
      const interpreter = chooseInterpreter(envs, target.ref.familiar, source.package, request.python);
      // The derivative of this exact patch set may exist already: then pip need not run again.
      const existing = await ctx.engine.inspectImage(derivativeOf(target, source, interpreter, request.noDeps));
      // Without pip, and without a wheel to run as pip, only an install fails: moving tags does not.
      const pipWheel = await pipWheelFor(ctx, interpreter, target.ref.familiar).catch((err: Error) => err);
      const pythons = envs.map((e) => e.executable || e.path);
      let plan = planPatch(
        target,
        source,
        interpreter,
        {
          noDeps: request.noDeps,
          keepTag: request.keepTag,
          checkSyntax: request.checkSyntax ?? false,
          pythons,
          pip,
          ...(pipWheel instanceof Error ? {} : { pipWheel }),
        },
        existing,
      );
      const sync = plan.action === 'build' ? await planSync(ctx, plan, source) : undefined;
      if (sync && 'reason' in sync) ctx.report.info(`${plan.image}: full install: ${sync.reason}`);
      else if (sync) plan = { ...plan, action: 'sync', sync };
      if (plan.action === 'build' && pipWheel instanceof Error) throw pipWheel;
      describePlan(ctx, plan);
      return { image: plan.image, plan };
    } catch (failure) {
      return { image: target.ref.familiar, failure };
    }
  });
  return { source, images, skipped };
}

/** Where the version comes from, when it is git's: what git says of the commit, or why the build gets no version. */
function sayVcs(ctx: Context, source: ResolvedSource): void {
  const vcs = source.vcs;
  if (!vcs) return;
  const what = source.package ?? 'the package';
  if (vcs.tool.tool === 'other')
    return void ctx.report.warn(
      `${what} takes its version from git with ${vcs.tool.name}, whose version nfhot does not compute: the build gets none from git`,
    );
  if (!vcs.described)
    return void ctx.report.warn(
      `${what} takes its version from git (${vcs.tool.tool}), but ${source.display} is not in a git checkout: there is no version to compute`,
    );
  ctx.report.info(
    `${what} takes its version from git (${vcs.tool.tool}): ${describeVcs(vcs)}; nfhot hands the build the version it gives that`,
  );
}

/** How pip runs when the environment has none: from a wheel in the image, else from one on this machine. */
async function pipWheelFor(ctx: Context, interpreter: Interpreter, image: string): Promise<PipWheel | undefined> {
  const { env } = interpreter;
  if (env.pip) return undefined;
  if (env.pipWheel) return { path: env.pipWheel, fromHost: false };
  return { path: await hostPipWheel(ctx.programs, `${env.executable} in ${image} has no pip`), fromHost: true };
}

function describePlan(ctx: Context, plan: PatchPlan): void {
  if (plan.action === 'unchanged')
    return void ctx.report.info(`${plan.image}: already patched with this (${plan.derivative}); nothing to do`);
  ctx.report.info(`${plan.image}: Python ${plan.pythonVersion} at ${plan.python} (${plan.pythonReason})`);
  if (plan.replaces)
    ctx.report.info(
      `${plan.image}: replaces the patch of ${plan.replaces.package} ${plan.replaces.version} (${plan.replaces.source})`,
    );
  for (const k of plan.keeps)
    ctx.report.info(`${plan.image}: keeps the patch of ${k.package} ${k.version} (${k.source})`);
  if (plan.action === 'reuse')
    ctx.report.info(`${plan.image}: ${plan.derivative} already holds this patch set; pip will not run`);
  if (plan.sync)
    ctx.report.info(
      `${plan.image}: only files the install copies as they are changed (${plan.sync.files.map((f) => f.path).join(', ')}): writing them over the full install ${shortId(plan.sync.base.id)}; pip will not run`,
    );
}

const succeeded = (
  plan: PatchPlan,
  action: Applied | 'planned',
  patches: PatchRecord[],
  started: number,
): ImagePatchResult => ({
  image: plan.image,
  action,
  derivative: plan.derivative,
  original: plan.originalId,
  python: plan.python,
  pythonReason: plan.pythonReason,
  ...(plan.replaces
    ? { replaces: `${plan.replaces.package} ${plan.replaces.version} from ${plan.replaces.source}` }
    : {}),
  patches,
  seconds: (performance.now() - started) / 1000,
});

/** The plan as results, without applying it (--dry-run). */
export function plannedResults(plan: PatchSetPlan): { images: ImagePatchResult[]; failed: ImageFailure[] } {
  const now = performance.now();
  return {
    images: plan.images.flatMap((i) =>
      'plan' in i ? [succeeded(i.plan, 'planned', i.plan.existing?.patches ?? i.plan.keeps, now)] : [],
    ),
    failed: plan.images.flatMap((i) => ('failure' in i ? [imageFailure(i.image, i.failure)] : [])),
  };
}

/**
 * Carries out the plan, image by image (one per core at a time). One image's failure does not
 * stop the others: `failed` says which could not be done, and why.
 */
export async function applyPatches(
  ctx: Context,
  plan: PatchSetPlan,
  at = new Date().toISOString(),
): Promise<{ images: ImagePatchResult[]; failed: ImageFailure[] }> {
  const failed: ImageFailure[] = [];
  const results = await mapLimit(
    plan.images,
    availableParallelism(),
    async (i): Promise<ImagePatchResult | undefined> => {
      const started = performance.now();
      try {
        if ('failure' in i) throw i.failure;
        if (i.plan.action === 'build' && i.plan.externallyManaged)
          ctx.report.warn(
            `${i.plan.python} in ${i.image} is EXTERNALLY-MANAGED (PEP 668); patching it anyway, as it is your image`,
          );
        const { patches, action } = await applyPatch(ctx, i.plan, plan.source, at);
        return succeeded(i.plan, action, patches, started);
      } catch (err) {
        failed.push(imageFailure(i.image, err));
        if (plan.images.length > 1) ctx.report.warn(`${i.image}: ${failed.at(-1)!.error}`);
        return undefined;
      }
    },
  );
  return { images: results.filter((r): r is ImagePatchResult => r !== undefined), failed };
}
