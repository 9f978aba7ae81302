import type { Git, TreeRef } from '../ports/git.js';
import { UserError } from '../base/errors.js';
import { isPythonProject, projectName, vcsVersioning, type ProjectFiles } from './pyproject.js';
import { normalizeName } from '../image/record.js';
import { stripCredentials } from '../base/redact.js';
import { describeSource, type ResolvedSource, type SourceSpec } from './source.js';

async function projectFiles(git: Git, tree: TreeRef): Promise<ProjectFiles> {
  const [pyproject, setupCfg, setupPy] = (await git.readFiles(tree, ['pyproject.toml', 'setup.cfg', 'setup.py'])).map(
    (b) => b?.toString('utf8'),
  );
  return { pyproject, setupCfg, setupPy };
}

/**
 * Turns what the user named into an exact tree on the host: a fetched commit, or a snapshot
 * of a working directory. `repository` is where NAME@REF lives (from --repo or the image).
 */
export async function resolveSource(spec: SourceSpec, git: Git, repository?: string): Promise<ResolvedSource> {
  let source: ResolvedSource;
  if (spec.kind === 'dir') {
    const snap = await git.snapshot(spec.path);
    source = {
      kind: 'dir',
      display: snap.path,
      path: snap.path,
      tree: snap,
      dirty: snap.dirty,
      ...(snap.commit ? { commit: snap.commit } : {}),
      ...(snap.branch ? { ref: snap.branch } : {}),
    };
  } else {
    const url = spec.kind === 'git' ? spec.url : repository;
    if (!url) throw new UserError(`no repository for ${describeSource(spec)}`);
    const ref = spec.ref;
    const subdirectory = spec.kind === 'git' ? spec.subdirectory : undefined;
    const commit = await git.fetch(url, ref);
    const tree = await git.treeOf(commit, subdirectory);
    if (!tree) throw new UserError(`no directory ${subdirectory} at ${ref ?? 'HEAD'} of ${stripCredentials(url)}`);
    const displayUrl = stripCredentials(url);
    source = {
      kind: 'git',
      display: spec.kind === 'git' ? describeSource(spec) : `${spec.name}@${spec.ref} (${displayUrl})`,
      url,
      displayUrl,
      ...(ref ? { ref } : {}),
      commit,
      tree: { tree },
      ...(subdirectory ? { subdirectory } : {}),
    };
  }
  const files = await projectFiles(git, source.tree);
  if (!isPythonProject(files)) {
    throw new UserError(
      `${source.display} is not a Python project: it has no pyproject.toml, setup.py or setup.cfg`,
      "point at the directory that holds the package's pyproject.toml (for a monorepo: git+URL@REF#subdirectory=PATH)",
    );
  }
  const name = projectName(files);
  if (name) source.package = normalizeName(name);
  // A version from git: read where the repository is (the image has neither the .git nor, usually, git).
  const tool = vcsVersioning(files);
  if (tool) {
    const at =
      source.kind === 'git'
        ? { url: source.url!, commit: source.commit!, ...(source.ref ? { ref: source.ref } : {}) }
        : source.commit
          ? { dir: source.path! }
          : undefined;
    source.vcs = { tool, ...(at && tool.tool !== 'other' ? { described: await git.describe(at, tool.match) } : {}) };
  }
  if (spec.kind === 'name' && source.package && source.package !== normalizeName(spec.name)) {
    throw new UserError(
      `${source.displayUrl} holds ${source.package}, not ${spec.name}`,
      'check --repo, or name the package as its pyproject.toml does',
    );
  }
  return source;
}
