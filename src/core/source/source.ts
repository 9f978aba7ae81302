import { UsageError } from '../base/errors.js';
import { stripCredentials } from '../base/redact.js';
import type { Described, TreeRef } from '../ports/git.js';
import type { VcsVersioning } from './pyproject.js';

/** What the user asked to install, before anything is fetched. */
export type SourceSpec =
  | { kind: 'git'; url: string; displayUrl: string; ref?: string; subdirectory?: string }
  | { kind: 'dir'; path: string }
  | { kind: 'name'; name: string; ref: string };

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/**
 * A ref is handed to git as data, but it must also look like a ref: no option-like
 * leading dash, nothing git's check-ref-format forbids, nothing a shell would treat specially.
 */
export function checkRef(ref: string, spec: string): string {
  const bad =
    ref.length === 0
      ? 'it is empty'
      : ref.startsWith('-')
        ? 'it starts with "-" (it would read as an option)'
        : /[\x00-\x20\x7f~^:?*[\\]/.test(ref)
          ? 'it contains a space, control character or one of ~ ^ : ? * [ \\'
          : /\.\.|@\{|\/\/|\/$|\.$|\.lock$|^\/|(^|\/)\./.test(ref)
            ? 'it is not a valid git ref name'
            : /[$`;&|<>()'"!]/.test(ref)
              ? 'it contains shell metacharacters, which no git ref uses'
              : ref.length > 255
                ? 'it is longer than 255 characters'
                : undefined;
  if (bad)
    throw new UsageError(
      `invalid ref ${JSON.stringify(ref)} in source ${JSON.stringify(spec)}: ${bad}`,
      'a ref is a branch, tag or commit, e.g. main, v1.2.0 or 3f2a9c1',
    );
  return ref;
}

function parseGit(spec: string): SourceSpec {
  let rest = spec.slice('git+'.length);
  let subdirectory: string | undefined;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    for (const pair of rest.slice(hash + 1).split('&')) {
      const [k, v] = pair.split('=', 2);
      if (k === 'subdirectory' && v) subdirectory = v;
    }
    rest = rest.slice(0, hash);
  }
  // The ref follows the last '@' of the path; '@' in the authority (user:token@host) belongs to the URL.
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(rest);
  const pathStart = scheme ? rest.indexOf('/', scheme[0].length) : rest.startsWith('/') ? 0 : rest.indexOf(':');
  let url = rest;
  let ref: string | undefined;
  const at = rest.lastIndexOf('@');
  if (pathStart >= 0 && at > pathStart) {
    url = rest.slice(0, at);
    ref = checkRef(rest.slice(at + 1), spec);
  }
  if (!url || url.startsWith('-') || (!scheme && !/^[^/:]+@?[^/:]*:/.test(url) && !url.startsWith('/'))) {
    throw new UsageError(
      `invalid git source ${JSON.stringify(spec)}: no repository URL`,
      'write git+URL@REF, e.g. git+https://github.com/org/pkg.git@main or git+file:///srv/pkg.git@fix',
    );
  }
  if (/[\x00-\x1f\s]/.test(url))
    throw new UsageError(
      `invalid git source ${JSON.stringify(spec)}: the URL contains whitespace or control characters`,
    );
  if (subdirectory !== undefined && (subdirectory.startsWith('/') || subdirectory.split('/').includes('..'))) {
    throw new UsageError(
      `invalid subdirectory ${JSON.stringify(subdirectory)}: it must be a relative path inside the repository`,
    );
  }
  const displayUrl = stripCredentials(url);
  return { kind: 'git', url, displayUrl, ...(ref ? { ref } : {}), ...(subdirectory ? { subdirectory } : {}) };
}

/**
 * Reads `<source>`: git+URL@REF, a local directory, or NAME@REF.
 * `isDirectory` is the one question asked of the file system, so the parser stays pure.
 */
export function parseSource(spec: string, isDirectory: (path: string) => boolean): SourceSpec {
  if (spec.trim() === '')
    throw new UsageError('the source is empty', 'give git+URL@REF, a local directory, or NAME@REF');
  if (spec.startsWith('git+')) return parseGit(spec);
  if (isDirectory(spec)) return { kind: 'dir', path: spec };
  const at = spec.lastIndexOf('@');
  if (at > 0) {
    const name = spec.slice(0, at);
    if (NAME.test(name)) return { kind: 'name', name, ref: checkRef(spec.slice(at + 1), spec) };
  }
  const looksLikePath = /^(\.{1,2}|~)?\//.test(spec) || spec.startsWith('.');
  throw new UsageError(
    looksLikePath ? `no such directory: ${spec}` : `cannot read source ${JSON.stringify(spec)}`,
    'give git+URL@REF (any URL git understands), a local directory (its working tree as it is now), or NAME@REF with --repo URL',
  );
}

/** How a source is shown: never with credentials. */
export function describeSource(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'git':
      return `git+${spec.displayUrl}${spec.ref ? `@${spec.ref}` : ''}${spec.subdirectory ? `#subdirectory=${spec.subdirectory}` : ''}`;
    case 'dir':
      return spec.path;
    case 'name':
      return `${spec.name}@${spec.ref}`;
  }
}

/** A source fetched or snapshotted on the host: an exact tree, ready to export. */
export interface ResolvedSource {
  kind: 'git' | 'dir';
  /** How it is shown: never with credentials. */
  display: string;
  /** The URL git fetches from, credentials included: kept in memory only. */
  url?: string;
  displayUrl?: string;
  path?: string;
  ref?: string;
  commit?: string;
  tree: TreeRef;
  dirty?: boolean;
  subdirectory?: string;
  /** Normalised name the source declares, when it can be read without building it. */
  package?: string;
  /** The version comes from git: the tool, and what git says of the commit (undefined when the source is not in git). */
  vcs?: { tool: VcsVersioning; described?: Described };
}

/** What git's facts mean for the version, in words: `3 commits past v1.2.3, uncommitted changes`. */
export function describeVcs(vcs: NonNullable<ResolvedSource['vcs']>): string {
  const d = vcs.described;
  if (!d) return 'not in a git checkout';
  const where = d.tag
    ? `${d.distance === 0 ? 'at' : `${d.distance} commit${d.distance === 1 ? '' : 's'} past`} ${d.tag}`
    : `${d.distance} commit${d.distance === 1 ? '' : 's'}, no tag`;
  return `${where}${d.dirty ? ', uncommitted changes' : ''}${d.shallow ? ' (a shallow clone: the tag and distance may be wrong)' : ''}`;
}
