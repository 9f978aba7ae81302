import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Context } from '../context.js';
import { buildPy, installPy } from '../assets.js';
import { hostPython } from '../host-python.js';
import type { Described, TreeRef } from '../ports/git.js';
import { buildOnHost } from './host-build.js';
import { BusyError, ContainerGoneError, throwIfInterrupted, UserError } from '../errors.js';
import { withLock } from '../lock.js';
import { pipFailure } from '../pip-failure.js';
import { directUrlOf, recordOf, type PatchPlan, type Target } from './plan.js';
import { toLabels, type DerivativeRecord, type PatchRecord } from '../record.js';
import { activeRef, keeperRef } from '../reference.js';
import type { ResolvedSource } from '../source.js';
import { stopPoint } from '../stop-point.js';
import { rememberInstall, rememberSync, syncLayer, versionKey, type Learned, type SyncPlan } from './sync.js';

/** Where the work container gets the sources (and a pip wheel): a directory of its own, as some images have no /tmp; install.py removes it. */
const WORK_ROOT = 'nfhot-work';
const HOST_PIP_WHEEL = 'pip.whl';

/** One thing to pip-install: the new source, or an active patch installed again. */
interface Install {
  tree: TreeRef;
  directUrl: ReturnType<typeof directUrlOf>;
  python: string;
  noDeps: boolean;
  /** The distribution it replaces, when known. */
  name?: string;
  /** The active patch this installs again; undefined for the new source. */
  kept?: PatchRecord;
  /** Learn where the install puts its files (a working copy: later changes may be synced). */
  learn?: boolean;
  /** The version git gives it, for a build that cannot ask git: the facts, or (an earlier patch again) the version. */
  version?: VersionFacts;
}

/** What build.py is told of a version from git. */
type VersionFacts = ({ tool: string } & Described) | { tool: string; version: string };

/** What the install needs that the first try in the container found missing, and how a second one goes. */
interface Retry {
  /** Wheels built on this machine, by install. */
  wheels?: Map<number, { name: string; content: Buffer; python: string }>;
  /** pip may build the rest in isolation (its backend fetched from an index). */
  isolated?: boolean;
  /** Then: the build requirements no interpreter had, and where nfhot looked, for pip's failure to say. */
  requirements?: string[];
  searched?: string;
}

/** install.py found a source whose backend no interpreter of the image has. */
class NeedsBackend extends Error {
  constructor(readonly needs: { source: number; missing: string[]; backend: string }[], readonly searched: string[]) {
    super('a build backend is missing');
  }
}

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
  const [current, active] = await Promise.all([ctx.engine.inspectImage(target.ref.familiar), ctx.engine.inspectImage(activeRef(target.ref))]);
  if (current?.id !== target.current.id || active?.id !== target.activeImageId) {
    throw new BusyError(`busy: ${target.ref.familiar} changed while nfhot was preparing to patch it (another nfhot, or a docker build, tag or pull)`, 'run the patch again: it starts from the image as it is now');
  }
}

/** The derivative already exists (same original, same patch set): only the tags move, pip never runs. */
async function reuse(ctx: Context, plan: PatchPlan, imageId: string): Promise<void> {
  await withLock(ctx.engine, plan.image, plan.originalId, async () => {
    await checkUnchanged(ctx, plan.target);
    await retag(ctx, plan, imageId);
  });
}

/**
 * The work container's command: install.py under each interpreter in turn (usually one), each
 * with its part of the job. A fixed shell loop over arguments: no user string is ever parsed.
 */
function installCommand(installs: Install[], plan: PatchPlan, retry: Retry): string[] {
  const groups = new Map<string, Install[]>();
  for (const i of installs) {
    const key = `${i.python}\0${i.noDeps}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  }
  const jobs = [...groups.values()].flatMap((group, g, all) => [
    group[0]!.python,
    JSON.stringify({
      root: `/${WORK_ROOT}`,
      last: g === all.length - 1,
      noDeps: group[0]!.noDeps,
      sources: group.map((i) => {
        const n = installs.indexOf(i);
        const wheel = retry.wheels?.get(n);
        return { id: n, dir: `/${WORK_ROOT}/${n}`, directUrl: i.directUrl, ...(i.name ? { name: i.name } : {}), ...(i.version ? { version: i.version } : {}), ...(wheel ? { wheel: `/${WORK_ROOT}/host-wheels/${n}/${wheel.name}` } : {}) };
      }),
      // Another interpreter of the image may have a backend this one lacks.
      builders: plan.pythons.filter((p) => p !== group[0]!.python),
      isolated: retry.isolated ?? false,
      // What pip cannot uninstall (no RECORD, say) is removed first: the packages this replaces.
      replace: [...new Set(group.map((i) => i.name).filter(Boolean))],
      checkSyntax: plan.checkSyntax,
      // Where the working copy's files go, for the syncs after this install.
      learn: group.includes(installs[0]!) && installs[0]!.learn,
      pipWheel: group[0]!.python === plan.python && plan.pipWheel ? (plan.pipWheel.fromHost ? `/${WORK_ROOT}/${HOST_PIP_WHEEL}` : plan.pipWheel.path) : null,
    }),
  ]);
  return ['/bin/sh', '-c', 'script=$1; shift; while [ $# -gt 0 ]; do "$1" -c "$script" "$2" || exit $?; shift 2; done', 'nfhot-install', installPy(), ...jobs];
}

/** What pip installed from which source, and what install.py learned of the first's layout, as install.py reports them (one JSON line per interpreter). */
function installedBy(stdout: string, installs: Install[]): { found: Map<Install, { name: string; version: string }>; learned?: Learned } {
  const found = new Map<Install, { name: string; version: string }>();
  let learned: Learned | undefined;
  for (const line of stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const report = JSON.parse(line) as { installed?: { name: string; version: string; source: number | null }[]; learned?: Learned | null; needs?: NeedsBackend['needs']; searched?: string[] };
    if (report.needs) throw new NeedsBackend(report.needs, report.searched ?? []);
    learned ??= report.learned ?? undefined;
    for (const item of report.installed ?? []) {
      const i = item.source === null ? undefined : installs[item.source];
      if (i) found.set(i, { name: item.name, version: item.version });
    }
  }
  return { found, ...(learned ? { learned } : {}) };
}

/** What was done: built (installed), synced (changed files written over the full install), reused (tags moved), unchanged. */
export type Applied = 'built' | 'synced' | 'reused' | 'unchanged';

/**
 * Carries out one image's plan: nothing when its derivative is in place already, the tags alone
 * when it exists, a sync, else the install. Returns the patch set the image has then.
 */
export async function applyPatch(ctx: Context, plan: PatchPlan, source: ResolvedSource, at: string): Promise<{ patches: PatchRecord[]; action: Applied }> {
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
async function compilesOnHost(ctx: Context, plan: PatchPlan, files: { path: string; content: Buffer }[]): Promise<boolean> {
  const modules = Object.fromEntries(files.filter((f) => f.path.endsWith('.py')).map((f) => [f.path, f.content.toString('base64')]));
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
async function sync(ctx: Context, plan: PatchPlan, sync: SyncPlan, source: ResolvedSource, at: string): Promise<DerivativeRecord | undefined> {
  // The new contents are read, and checked, while the lock is taken and the layer written: the image is tagged only if they compile.
  const files = ctx.git.readFiles(source.tree, sync.files.map((f) => f.path)).then((contents) => sync.files.map((f, n) => ({ path: f.path, content: contents[n] ?? Buffer.alloc(0) })));
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
    const layer = syncLayer(sync, (await files).map((f) => f.content), Math.floor(Date.now() / 1000));
    const comment = `nfhot: ${was.package} ${was.version} from ${source.display}, tree ${source.tree.tree.slice(0, 12)}`;
    const id = await ctx.report.step(`${plan.image}: writing ${what} over the full install`, () => ctx.engine.addLayer(sync.base.id, layer, config, comment));
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
 * Installs the patch set into a container made from the original, commits one layer, tags it.
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
      ...(source.vcs?.described && source.vcs.tool.tool !== 'other' ? { version: { tool: source.vcs.tool.tool, ...source.vcs.described } } : {}),
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
  return withLock(ctx.engine, plan.image, plan.originalId, async (lock) => {
    await checkUnchanged(ctx, plan.target);
    let retry: Retry = {};
    let removed = 0;
    for (;;) {
      try {
        return await install(ctx, plan, installs, source, at, lock.workName, retry);
      } catch (err) {
        if (err instanceof NeedsBackend && !retry.wheels && !retry.isolated) {
          retry = await wheelsFromHost(ctx, plan, installs, err);
        } else if (err instanceof ContainerGoneError && removed++ === 0) {
          ctx.report.warn(`${plan.image}: ${err.message}; starting again in a new one`);
        } else if (err instanceof ContainerGoneError) {
          throw new UserError(`${plan.image}: nfhot's work container was removed twice while the patch was under way (a docker container prune or system prune?); nothing was tagged`, 'run the patch again once the prunes are over');
        } else throw err;
      }
    }
  });
}

/**
 * No interpreter of the image has the build backend of some sources: this machine's python3
 * builds their wheels. What it cannot build, pip builds in isolation, fetching the backend from
 * the image's package index (when there is none, the failure names the backend and where nfhot looked).
 */
async function wheelsFromHost(ctx: Context, plan: PatchPlan, installs: Install[], missing: NeedsBackend): Promise<Retry> {
  const wheels = new Map<number, { name: string; content: Buffer; python: string }>();
  const unbuilt: string[] = [];
  let host = "this machine's python3";
  let requirements: string[] = [];
  for (const need of missing.needs) {
    const install = installs[need.source]!;
    const what = `${install.name ?? 'the source'} (${need.backend}: ${need.missing.join(', ')})`;
    const built = await ctx.report.step(`${plan.image}: no Python of the image has what the build of ${what} needs; building its wheel on this machine`, () =>
      buildOnHost(ctx, install.tree, install.version && { ...install.version, ...(install.name ? { name: install.name } : {}) }),
    );
    if ('wheel' in built) {
      wheels.set(need.source, { ...built.wheel, python: built.python });
      if (built.version) ctx.report.info(`${plan.image}: ${install.name ?? 'the package'}: version ${built.version} from git (${built.how})`);
      ctx.report.info(`${plan.image}: built ${built.wheel.name} with ${built.python} on this machine (a pure-Python wheel is the same whoever builds it)`);
      continue;
    }
    unbuilt.push(`${what}: ${built.why}`);
    if (built.python) host = `this machine's python3 (${built.python})`;
    // What no interpreter has: what the image's lack and this machine's too.
    requirements.push(...need.missing.filter((m) => !built.missing || built.missing.includes(m)));
  }
  if (!unbuilt.length) return { wheels };
  const searched = [...missing.searched.map((p) => `${p} in the image`), host].join(', ');
  ctx.report.warn(`${plan.image}: ${unbuilt.join('; ')}: pip builds it in isolation, which needs a package index for the build requirements`);
  requirements = [...new Set(requirements)];
  return { wheels, isolated: true, requirements, searched };
}

/** One attempt: a work container from the original, the sources copied in, pip, the commit, the tags. */
async function install(ctx: Context, plan: PatchPlan, installs: Install[], source: ResolvedSource, at: string, name: string, retry: Retry): Promise<DerivativeRecord> {
  throwIfInterrupted(ctx.signal);
  const hostNetwork = plan.pip.loopback.length > 0;
  const work = await ctx.engine.createWorkContainer({ name, image: plan.originalId, config: plan.target.original.config, argv: installCommand(installs, plan, retry), hostNetwork });
  const interrupt = () => void work.kill();
  ctx.signal.addEventListener('abort', interrupt);
  try {
    await ctx.report.step(`${plan.image}: exporting the source`, () => {
      const exporting = Promise.all([
        ...installs.map(async (i, n) => {
          const { stream, done } = ctx.git.archive(i.tree, `${WORK_ROOT}/${n}/`);
          await Promise.all([work.putArchive(stream, '/'), done]);
        }),
        work.putFiles('/', {
          [`${WORK_ROOT}/nfhot_build.py`]: Buffer.from(buildPy()),
          // The user's index, for this install only: install.py reads the file and removes it.
          ...(Object.keys(plan.pip.env).length ? { [`${WORK_ROOT}/pip-env.json`]: Buffer.from(JSON.stringify(plan.pip.env)) } : {}),
          ...Object.fromEntries([...(retry.wheels ?? [])].map(([n, w]) => [`${WORK_ROOT}/host-wheels/${n}/${w.name}`, w.content])),
        }),
        plan.pipWheel?.fromHost && readFile(plan.pipWheel.path).then((wheel) => work.putFiles('/', { [`${WORK_ROOT}/${HOST_PIP_WHEEL}`]: wheel })),
      ]);
      stopPoint('patch:export');
      return exporting;
    });
    throwIfInterrupted(ctx.signal);
    const result = await ctx.report.step(`${plan.image}: pip install into ${plan.python}${plan.pipWheel ? ` (pip run from ${plan.pipWheel.fromHost ? "this machine's" : "the image's"} ${basename(plan.pipWheel.path)})` : ''}`, () => work.run(ctx.report.output('pip')));
    throwIfInterrupted(ctx.signal);
    const { found, learned } = installedBy(result.stdout, installs); // first: a missing backend is said with exit 75
    if (result.exitCode !== 0) throw pipFailure(result.stderr, plan.image, result.exitCode, retry.requirements && { requirements: retry.requirements, searched: retry.searched! });
    const installed = found.get(installs[0]!);
    if (!installed) throw new UserError(`pip reported success but installed nothing from ${source.display} in ${plan.image}`);
    const record: DerivativeRecord = {
      image: plan.image,
      original: plan.originalId,
      derivative: plan.derivative,
      patches: [recordOf(source, installed, plan, at), ...plan.keeps],
    };
    const original = plan.target.original.config;
    const config = { ...original, Labels: { ...(original.Labels ?? {}), ...toLabels(record) } };
    const comment = `nfhot: ${record.patches.map((p) => `${p.package} ${p.version} from ${p.source}${p.commit ? `@${p.commit.slice(0, 12)}` : ''}`).join(', ')}`;
    throwIfInterrupted(ctx.signal);
    stopPoint('patch:commit');
    const id = await ctx.report.step(`${plan.image}: commit`, () => work.commit(config, comment));
    stopPoint('patch:committed');
    // From here on the new image is complete: finish the tags rather than stop half way
    // (the container, no longer needed, goes meanwhile).
    await Promise.all([retag(ctx, plan, id), work.remove(), learned && rememberInstall(id, { tree: source.tree.tree, learned, ...(versionKey(source) ? { version: versionKey(source)! } : {}) })]);
    return record;
  } catch (err) {
    throwIfInterrupted(ctx.signal); // a killed container fails the step it was in: say why
    throw err;
  } finally {
    ctx.signal.removeEventListener('abort', interrupt);
    await work.remove();
  }
}
