// The job the install (src/python/nfhot_install) does in the work container: what it is told (sources, versions, wheels built
// elsewhere, the user's index), what it answers, and the second try when a source's build backend
// is in no interpreter of the image.
import { bootPy, zipapp } from '../base/assets.js';
import type { Context } from '../base/context.js';
import type { LayerFile } from '../ports/engine.js';
import type { Described, TreeRef } from '../ports/git.js';
import type { PatchRecord } from '../image/record.js';
import { buildOnHost } from './host-build.js';
import type { directUrlOf, PatchPlan } from './plan.js';
import type { Learned } from './sync.js';

/**
 * Where the work container gets the job's files (sources, the zipapp, wheels): in the image's /tmp
 * when it is there and empty, which the engine mounts in memory (faster to write, never part of a
 * commit, hiding nothing of the image's), else a directory of its own (some images have no /tmp,
 * some keep files there). The install removes it.
 */
export const workRoot = (plan: PatchPlan): string => (plan.tmp ? 'tmp/nfhot-work' : 'nfhot-work');
/** The image's directory the engine mounts in memory for the job's files, when workRoot puts them there. */
export const workMemory = (plan: PatchPlan): string | undefined => (plan.tmp ? '/tmp' : undefined);
/** Where the install writes a layer: in the container's own files, where the engine reads it. */
export const LAYER_TAR = '/nfhot-work.layer.tar';
export const HOST_PIP_WHEEL = 'pip.whl';

/** One thing to pip-install: the new source, or an active patch installed again. */
export interface Install {
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

/** What the build (nfhot_install/build.py) is told of a version from git. */
type VersionFacts = ({ tool: string } & Described) | { tool: string; version: string };

/** What the install needs that the first try in the container found missing, and how a second one goes. */
export interface Retry {
  /** Wheels built on this machine, by install. */
  wheels?: Map<number, { name: string; content: Buffer }>;
  /** pip may build the rest in isolation (its backend fetched from an index). */
  isolated?: boolean;
  /** pip must run, and may need an index: on the network (the first try, which may write a layer, has none). */
  network?: boolean;
  /** Then: the build requirements no interpreter had, and where nfhot looked, for pip's failure to say. */
  requirements?: string[];
  searched?: string;
}

/** The install, with no network, found that pip must install, and may need an index. */
export class NeedsNetwork extends Error {
  constructor(readonly why: string) {
    super('pip needs the network');
  }
}

/** The install found a source whose backend no interpreter of the image has. */
export class NeedsBackend extends Error {
  constructor(
    readonly needs: { source: number; missing: string[]; backend: string }[],
    readonly searched: string[],
  ) {
    super('a build backend is missing');
  }
}

/**
 * The work container's command: the install (boot.py, then nfhot.pyz) under each interpreter in
 * turn (usually one), each with its part of the job, a JSON object as install.schema.json defines
 * it. A fixed shell loop over arguments: no user string is ever parsed.
 */
export function installCommand(installs: Install[], plan: PatchPlan, retry: Retry, layer: boolean): string[] {
  const root = `/${workRoot(plan)}`;
  const groups = new Map<string, Install[]>();
  for (const i of installs) {
    const key = `${i.python}\0${i.noDeps}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  }
  const jobs = [...groups.values()].flatMap((group, g, all) => [
    group[0]!.python,
    JSON.stringify({
      root,
      receive: g === 0,
      last: g === all.length - 1,
      noDeps: group[0]!.noDeps,
      sources: group.map((i) => {
        const n = installs.indexOf(i);
        const wheel = retry.wheels?.get(n);
        return {
          id: n,
          dir: `${root}/${n}`,
          directUrl: i.directUrl,
          ...(i.name ? { name: i.name } : {}),
          ...(i.version ? { version: i.version } : {}),
          ...(wheel ? { wheel: `${root}/host-wheels/${n}/${wheel.name}` } : {}),
        };
      }),
      // Another interpreter of the image may have a backend this one lacks.
      builders: plan.pythons.filter((p) => p !== group[0]!.python),
      isolated: retry.isolated ?? false,
      // What pip cannot uninstall (no RECORD, say) is removed first: the packages this replaces.
      replace: [...new Set(group.map((i) => i.name).filter(Boolean))],
      checkSyntax: plan.checkSyntax,
      // Where the working copy's files go, for the syncs after this install.
      learn: group.includes(installs[0]!) && installs[0]!.learn === true,
      // Written as a layer by nfhot when the install finds nothing uncertain (one wheel, one environment).
      layer: layer ? LAYER_TAR : null,
      pipWheel:
        group[0]!.python === plan.python && plan.pipWheel
          ? plan.pipWheel.fromHost
            ? `${root}/${HOST_PIP_WHEEL}`
            : plan.pipWheel.path
          : null,
    }),
  ]);
  return [
    '/bin/sh',
    '-c',
    'boot=$1; shift; while [ $# -gt 0 ]; do "$1" -c "$boot" "$2" || exit $?; shift 2; done',
    'nfhot-install',
    bootPy(),
    ...jobs,
  ];
}

/** Whether the install has answered with a layer: its last line, `{"layer": …}`, whole (it exits 0 next). */
export function answeredWithLayer(chunk: string, stdout: () => string): boolean {
  if (!chunk.endsWith('}\n')) return false;
  const all = stdout();
  return all.startsWith('{"layer":', all.lastIndexOf('\n', all.length - 2) + 1);
}

/**
 * What was installed from which source, and what the install learned of the first's layout, as
 * it reports them (one JSON line per interpreter: install.schema.json's Answer); the layer it
 * wrote in the container instead of running pip, or why pip ran.
 */
export function installedBy(
  stdout: string,
  installs: Install[],
): { found: Map<Install, { name: string; version: string }>; learned?: Learned; layer?: LayerFile; pip?: string } {
  const found = new Map<Install, { name: string; version: string }>();
  let learned: Learned | undefined;
  let layer: LayerFile | undefined;
  let pip: string | undefined;
  for (const line of stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const report = JSON.parse(line) as {
      installed?: { name: string; version: string; source: number | null }[];
      learned?: Learned | null;
      needs?: NeedsBackend['needs'];
      searched?: string[];
      layer?: LayerFile;
      pip?: string | null;
      network?: string;
    };
    if (report.needs) throw new NeedsBackend(report.needs, report.searched ?? []);
    if (report.network) throw new NeedsNetwork(report.network);
    learned ??= report.learned ?? undefined;
    layer ??= report.layer;
    pip ??= report.pip ?? undefined;
    for (const item of report.installed ?? []) {
      const i = item.source === null ? undefined : installs[item.source];
      if (i) found.set(i, { name: item.name, version: item.version });
    }
  }
  return { found, ...(learned ? { learned } : {}), ...(layer ? { layer } : {}), ...(pip ? { pip } : {}) };
}

/** The files the install finds beside the sources: the zipapp, the user's index settings (read and removed before pip runs), wheels built on this machine. */
export function jobFiles(plan: PatchPlan, retry: Retry): Record<string, Buffer> {
  const root = workRoot(plan);
  return {
    [`${root}/nfhot.pyz`]: zipapp(),
    ...(Object.keys(plan.pip.env).length
      ? { [`${root}/pip-env.json`]: Buffer.from(JSON.stringify(plan.pip.env)) }
      : {}),
    ...Object.fromEntries([...(retry.wheels ?? [])].map(([n, w]) => [`${root}/host-wheels/${n}/${w.name}`, w.content])),
  };
}

/**
 * No interpreter of the image has the build backend of some sources: this machine's python3
 * builds their wheels. What it cannot build, pip builds in isolation, fetching the backend from
 * the image's package index (when there is none, the failure names the backend and where nfhot looked).
 */
export async function wheelsFromHost(
  ctx: Context,
  plan: PatchPlan,
  installs: Install[],
  missing: NeedsBackend,
): Promise<Retry> {
  const wheels = new Map<number, { name: string; content: Buffer }>();
  const unbuilt: string[] = [];
  let host = "this machine's python3";
  let requirements: string[] = [];
  for (const need of missing.needs) {
    const install = installs[need.source]!;
    const what = `${install.name ?? 'the source'} (${need.backend}: ${need.missing.join(', ')})`;
    const built = await ctx.report.step(
      `${plan.image}: no Python of the image has what the build of ${what} needs; building its wheel on this machine`,
      () =>
        buildOnHost(
          ctx,
          install.tree,
          install.version && { ...install.version, ...(install.name ? { name: install.name } : {}) },
        ),
    );
    if ('wheel' in built) {
      wheels.set(need.source, built.wheel);
      if (built.version)
        ctx.report.info(
          `${plan.image}: ${install.name ?? 'the package'}: version ${built.version} from git (${built.how})`,
        );
      ctx.report.info(
        `${plan.image}: built ${built.wheel.name} with ${built.python} on this machine (a pure-Python wheel is the same whoever builds it)`,
      );
      continue;
    }
    unbuilt.push(`${what}: ${built.why}`);
    if (built.python) host = `this machine's python3 (${built.python})`;
    // What no interpreter has: what the image's lack and this machine's too.
    requirements.push(...need.missing.filter((m) => !built.missing || built.missing.includes(m)));
  }
  if (!unbuilt.length) return { wheels };
  const searched = [...missing.searched.map((p) => `${p} in the image`), host].join(', ');
  ctx.report.warn(
    `${plan.image}: ${unbuilt.join('; ')}: pip builds it in isolation, which needs a package index for the build requirements`,
  );
  requirements = [...new Set(requirements)];
  return { wheels, isolated: true, requirements, searched };
}
