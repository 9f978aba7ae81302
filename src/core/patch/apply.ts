import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Context } from '../base/context.js';
import { hostPython } from '../interpreter/host-python.js';
import type { TreeRef } from '../ports/git.js';
import type { ImageInfo, RunResult, WorkContainer } from '../ports/engine.js';
import {
  answeredWithLayer,
  HOST_PIP_WHEEL,
  installCommand,
  installedBy,
  jobFiles,
  NeedsBackend,
  NeedsNetwork,
  wheelsFromHost,
  workMemory,
  workRoot,
  type Install,
  type Retry,
} from './install-job.js';
import { BusyError, ContainerGoneError, throwIfInterrupted, UserError } from '../base/errors.js';
import { withLock } from '../image/lock.js';
import { pipFailure } from '../interpreter/pip-failure.js';
import { directUrlOf, recordOf, type PatchPlan, type Target } from './plan.js';
import { toLabels, type DerivativeRecord, type PatchRecord } from '../image/record.js';
import { activeRef, keeperRef } from '../image/reference.js';
import type { ResolvedSource } from '../source/source.js';
import { stopPoint } from '../base/stop-point.js';
import { sizeOf } from '../base/util.js';
import { rememberInstall, rememberSync, syncLayer, versionKey, type SyncPlan } from './sync.js';

/** The tree of an active patch, from nfhot's cache or fetched again at its recorded commit. */
async function treeOfKept(ctx: Context, record: PatchRecord, image: string): Promise<TreeRef> {
  const near = record.kind === 'dir' ? record.path : undefined;
  const cached = await ctx.git.available(record.tree, near);
  if (cached) return cached;
  if (record.kind === 'git' && record.url && record.commit) {
    await ctx.git.fetch(record.url, record.commit).catch(() => undefined);
    const tree = await ctx.git.treeOf(record.commit, record.subdirectory);
    if (tree) return { tree };
  }
  throw new UserError(
    `cannot keep the patch of ${record.package} in ${image}: its source (${record.source}) is not available on this machine`,
    `patch ${record.package} again from its source, or roll it back first (nfhot rollback ${image})`,
  );
}

/**
 * Makes `imageId` the active derivative: its immutable reference first, then nfhot's keeper of the
 * original, then the image's own tag — or, with keepTag, nfhot's active reference, the tag staying
 * on (or going back to) the original.
 */
async function retag(ctx: Context, plan: PatchPlan, imageId: string): Promise<void> {
  const { target } = plan;
  await ctx.engine.tag(imageId, plan.derivative);
  stopPoint('patch:tag-derivative');
  await ctx.engine.tag(plan.originalId, keeperRef(target.ref));
  stopPoint('patch:tag-keeper');
  if (plan.keepTag) {
    await ctx.engine.tag(imageId, activeRef(target.ref));
    if (target.current.id !== plan.originalId) await ctx.engine.tag(plan.originalId, plan.image);
  } else {
    await ctx.engine.tag(imageId, plan.image);
    if (target.activeImageId) await ctx.engine.untag(activeRef(target.ref));
  }
}

/**
 * The plan was made from the tags as they were before the lock was taken. Had they moved since
 * (another nfhot finished meanwhile, or a docker build), it would drop or undo that change.
 */
async function checkUnchanged(ctx: Context, target: Target): Promise<void> {
  const [current, active] = await Promise.all([
    ctx.engine.inspectImage(target.ref.familiar),
    ctx.engine.inspectImage(activeRef(target.ref)),
  ]);
  if (current?.id !== target.current.id || active?.id !== target.activeImageId) {
    throw new BusyError(
      `busy: ${target.ref.familiar} changed while nfhot was preparing to patch it (another nfhot, or a docker build, tag or pull)`,
      'run the patch again: it starts from the image as it is now',
    );
  }
}

/** The derivative already exists (same original, same patch set): only the tags move, pip never runs. */
async function reuse(ctx: Context, plan: PatchPlan, imageId: string): Promise<void> {
  await withLock(ctx.engine, plan.image, plan.originalId, async () => {
    await checkUnchanged(ctx, plan.target);
    await retag(ctx, plan, imageId);
  });
}

/** What was done: built (installed), synced (changed files written over the full install), reused (tags moved), unchanged. */
export type Applied = 'built' | 'synced' | 'reused' | 'unchanged';

/**
 * Carries out one image's plan: nothing when its derivative is in place already, the tags alone
 * when it exists, a sync, else the install. Returns the patch set the image has then.
 */
export async function applyPatch(
  ctx: Context,
  plan: PatchPlan,
  source: ResolvedSource,
  at: string,
): Promise<{ patches: PatchRecord[]; action: Applied }> {
  if (plan.action === 'unchanged') return { patches: plan.existing!.patches, action: 'unchanged' };
  if (plan.action === 'reuse') {
    await reuse(ctx, plan, plan.existing!.id);
    return { patches: plan.existing!.patches, action: 'reused' };
  }
  throwIfInterrupted(ctx.signal);
  const synced = plan.sync && (await sync(ctx, plan, plan.sync, source, at));
  if (synced) return { patches: synced.patches, action: 'synced' };
  return { patches: (await build(ctx, plan, source, at)).patches, action: 'built' };
}

/**
 * Compiles the new modules with this machine's python3, when there is one: a half-written save
 * fails here, as the full install's check would. Said by the image's own Python minor version
 * only: else the full install checks (false: do it).
 */
async function compilesOnHost(
  ctx: Context,
  plan: PatchPlan,
  files: { path: string; content: Buffer }[],
): Promise<boolean> {
  const modules = Object.fromEntries(
    files.filter((f) => f.path.endsWith('.py')).map((f) => [f.path, f.content.toString('base64')]),
  );
  if (!Object.keys(modules).length) return true;
  const python = await hostPython(ctx.programs);
  if (!python) return true; // no python3 here: the task will say it
  const result = await ctx.programs.run(python, ['-I', '-S', '-c', COMPILES_PY], { input: JSON.stringify(modules) });
  const [version = '', error] = result.stdout.split('\n');
  if (!error) return true;
  if (plan.pythonVersion.split('.').slice(0, 2).join('.') !== version) return false;
  throw new UserError(`${plan.image}: ${error}`);
}

const COMPILES_PY = `import base64, json, sys
print("%d.%d" % sys.version_info[:2])
for name, data in json.load(sys.stdin).items():
    try:
        compile(base64.b64decode(data), name, "exec", dont_inherit=True)
    except SyntaxError as e:
        print("%s:%s: %s: %s" % (name, e.lineno, type(e).__name__, e.msg))
        break`;

/**
 * Writes the changed files as one layer over the full install (the image gets no other layer):
 * no container, no pip. Undefined when the image's Python must check the new modules: the
 * install runs then.
 */
async function sync(
  ctx: Context,
  plan: PatchPlan,
  sync: SyncPlan,
  source: ResolvedSource,
  at: string,
): Promise<DerivativeRecord | undefined> {
  // The new contents are read, and checked, while the lock is taken and the layer written: the image is tagged only if they compile.
  const files = ctx.git
    .readFiles(
      source.tree,
      sync.files.map((f) => f.path),
    )
    .then((contents) => sync.files.map((f, n) => ({ path: f.path, content: contents[n] ?? Buffer.alloc(0) })));
  const compiles = plan.checkSyntax ? files.then((f) => compilesOnHost(ctx, plan, f)) : files.then(() => true);
  compiles.catch(() => undefined); // awaited below
  const was = plan.replaces!;
  const record: DerivativeRecord = {
    image: plan.image,
    original: plan.originalId,
    derivative: plan.derivative,
    patches: [recordOf(source, { name: was.package, version: was.version }, plan, at), ...plan.keeps],
  };
  const base = sync.base.config;
  const config = { ...base, Labels: { ...(base.Labels ?? {}), ...toLabels(record) } };
  const what = sync.files.length === 1 ? sync.files[0]!.path : `${sync.files.length} changed files`;
  return withLock(ctx.engine, plan.image, plan.originalId, async () => {
    await checkUnchanged(ctx, plan.target);
    const layer = syncLayer(
      sync,
      (await files).map((f) => f.content),
      Math.floor(Date.now() / 1000),
    );
    const comment = `nfhot: ${was.package} ${was.version} from ${source.display}, tree ${source.tree.tree.slice(0, 12)}`;
    const id = await ctx.report.step(`${plan.image}: writing ${what} over the full install`, () =>
      ctx.engine.addLayer(sync.base.id, layer, config, comment),
    );
    const ok = await compiles.catch((err: unknown) => err);
    if (ok !== true) {
      await ctx.engine.untag(id);
      if (ok === false) return undefined;
      throw ok;
    }
    await rememberSync(id, sync.base.id);
    stopPoint('patch:committed');
    await retag(ctx, plan, id);
    return record;
  });
}

/**
 * Installs the patch set in a container made from the original, as one layer on it (written by
 * nfhot and loaded, or, where pip must run, the container committed), tags it.
 * A container created but not yet started (or ended, not yet committed) counts as stopped, and a
 * `docker container prune` or `system prune` removes it: the install then starts once more.
 */
async function build(ctx: Context, plan: PatchPlan, source: ResolvedSource, at: string): Promise<DerivativeRecord> {
  const installs: Install[] = [
    {
      tree: source.tree,
      directUrl: directUrlOf(source),
      python: plan.python,
      noDeps: plan.noDeps,
      name: source.package ?? plan.replaces?.package,
      learn: source.kind === 'dir',
      ...(source.vcs?.described && source.vcs.tool.tool !== 'other'
        ? { version: { tool: source.vcs.tool.tool, ...source.vcs.described } }
        : {}),
    },
    ...(await Promise.all(
      plan.keeps.map(async (kept) => ({
        tree: await treeOfKept(ctx, kept, plan.image),
        directUrl: directUrlOf(kept),
        python: kept.python,
        noDeps: kept.noDeps,
        name: kept.package,
        kept,
        // Its version, as git gave it when it was patched.
        ...(kept.vcs ? { version: { tool: kept.vcs, version: kept.version } } : {}),
      })),
    )),
  ];
  stopPoint('patch:planned');
  if (!ctx.engine.addsLayers)
    ctx.report.info(
      `${plan.image}: pip installs it and the container is committed: this engine cannot load a layer onto an image (Podman)`,
    );
  return withLock(ctx.engine, plan.image, plan.originalId, async (lock) => {
    await checkUnchanged(ctx, plan.target);
    let retry: Retry = {};
    let removed = 0;
    for (;;) {
      try {
        return await install(ctx, plan, installs, source, at, lock.workName, retry);
      } catch (err) {
        if (err instanceof NeedsBackend && !retry.wheels && !retry.isolated) {
          retry = { ...retry, ...(await wheelsFromHost(ctx, plan, installs, err)) };
        } else if (err instanceof NeedsNetwork && !retry.network) {
          ctx.report.info(`${plan.image}: pip installs it (${err.why}), on the network`);
          retry = { ...retry, network: true };
        } else if (err instanceof ContainerGoneError && removed++ === 0) {
          ctx.report.warn(`${plan.image}: ${err.message}; starting again in a new one`);
        } else if (err instanceof ContainerGoneError) {
          throw new UserError(
            `${plan.image}: nfhot's work container was removed twice while the patch was under way (a docker container prune or system prune?); nothing was tagged`,
            'run the patch again once the prunes are over',
          );
        } else throw err;
      }
    }
  });
}

/** The job run in the work container: the sources, as git archives them, and the job's files, read on its stdin as it starts. */
async function runJob(
  ctx: Context,
  plan: PatchPlan,
  installs: Install[],
  retry: Retry,
  work: WorkContainer,
  layered: boolean,
): Promise<RunResult> {
  const root = workRoot(plan);
  const archives = installs.map((i, n) => ctx.git.archive(i.tree, `${root}/${n}/`));
  const files = {
    ...jobFiles(plan, retry),
    ...(plan.pipWheel?.fromHost ? { [`${root}/${HOST_PIP_WHEEL}`]: await readFile(plan.pipWheel.path) } : {}),
  };
  stopPoint('patch:export');
  const pipFrom = plan.pipWheel
    ? ` (pip run from ${plan.pipWheel.fromHost ? "this machine's" : "the image's"} ${basename(plan.pipWheel.path)})`
    : '';
  const running = ctx.report.step(
    `${plan.image}: ${layered ? 'installing' : 'pip install'} into ${plan.python}${pipFrom}`,
    () =>
      work.run(
        { archives: archives.map((a) => a.stream), files },
        ctx.report.output('pip'),
        layered ? answeredWithLayer : undefined,
      ),
  );
  const archived = Promise.all(archives.map((a) => a.done));
  archived.catch(() => undefined); // a run that fails stops reading them: its failure is the one to say
  const result = await running;
  if (result.exitCode === 0) await archived;
  return result;
}

/** The derivative's record, its config (the original's, with the record's labels) and the history's comment. */
function derivativeOf(
  plan: PatchPlan,
  source: ResolvedSource,
  installed: { name: string; version: string },
  at: string,
): { record: DerivativeRecord; config: ImageInfo['config']; comment: string } {
  const record: DerivativeRecord = {
    image: plan.image,
    original: plan.originalId,
    derivative: plan.derivative,
    patches: [recordOf(source, installed, plan, at), ...plan.keeps],
  };
  const original = plan.target.original.config;
  const config = { ...original, Labels: { ...(original.Labels ?? {}), ...toLabels(record) } };
  const comment = `nfhot: ${record.patches.map((p) => `${p.package} ${p.version} from ${p.source}${p.commit ? `@${p.commit.slice(0, 12)}` : ''}`).join(', ')}`;
  return { record, config, comment };
}

/** One attempt: a work container from the original, the sources copied in, the install (a layer, or pip and the commit), the tags. */
async function install(
  ctx: Context,
  plan: PatchPlan,
  installs: Install[],
  source: ResolvedSource,
  at: string,
  name: string,
  retry: Retry,
): Promise<DerivativeRecord> {
  throwIfInterrupted(ctx.signal);
  // Docker loads a layer nfhot writes: no commit, and no pip where the install can do without it,
  // nor a network (a container starts sooner without); the install says when pip needs one.
  const layered = ctx.engine.addsLayers && installs.length === 1 && !retry.network && !retry.isolated;
  const network = layered ? 'none' : plan.pip.loopback.length > 0 ? 'host' : undefined;
  const work = await ctx.engine.createWorkContainer({
    name,
    image: plan.originalId,
    config: plan.target.original.config,
    argv: installCommand(installs, plan, retry, layered),
    memory: workMemory(plan),
    ...(network ? { network } : {}),
  });
  const interrupt = () => void work.kill();
  ctx.signal.addEventListener('abort', interrupt);
  try {
    const result = await runJob(ctx, plan, installs, retry, work, layered);
    throwIfInterrupted(ctx.signal);
    const { found, learned, layer, pip } = installedBy(result.stdout, installs); // first: a missing backend is said with exit 75
    if (result.exitCode !== 0)
      throw pipFailure(
        result.stderr,
        plan.image,
        result.exitCode,
        retry.requirements && { requirements: retry.requirements, searched: retry.searched! },
      );
    const installed = found.get(installs[0]!);
    if (!installed)
      throw new UserError(`pip reported success but installed nothing from ${source.display} in ${plan.image}`);
    const { record, config, comment } = derivativeOf(plan, source, installed, at);
    if (pip) ctx.report.info(`${plan.image}: pip installed it: ${pip}`);
    throwIfInterrupted(ctx.signal);
    stopPoint('patch:commit');
    // A layer's container has answered and may still be exiting: the layer streams from it to the engine.
    const id = layer
      ? await ctx.report.step(`${plan.image}: loading the layer (${layer.files} files, ${sizeOf(layer.size)})`, () =>
          work.addLayer(plan.originalId, layer, config, comment),
        )
      : await ctx.report.step(`${plan.image}: commit`, () => work.commit(config, comment));
    stopPoint('patch:committed');
    // From here on the new image is complete: finish the tags rather than stop half way
    // (the container, no longer needed, goes meanwhile).
    const version = versionKey(source);
    await Promise.all([
      retag(ctx, plan, id),
      work.remove(),
      learned && rememberInstall(id, { tree: source.tree.tree, learned, ...(version ? { version } : {}) }),
    ]);
    return record;
  } catch (err) {
    throwIfInterrupted(ctx.signal); // a killed container fails the step it was in: say why
    throw err;
  } finally {
    ctx.signal.removeEventListener('abort', interrupt);
    await work.remove();
  }
}
