// The facts git gives of a revision's version (its nearest tag, the distance, the commit, whether
// dirty), read from the user's checkout or from a repository's whole history fetched into nfhot's cache.
import { join } from 'node:path';
import { cacheDir } from '../core/base/dirs.js';
import { stripCredentials } from '../core/base/redact.js';
import { hashHex } from '../core/image/reference.js';
import type { Described } from '../core/ports/git.js';
import { bareRepository, gitError, runGit } from './git-process.js';

/** Git.describe: see the port. */
export async function describeRevision(
  at: { dir: string } | { url: string; commit: string; ref?: string },
  match: string[],
): Promise<Described> {
  let cwd: string;
  let rev: string;
  let branch: string | undefined;
  let dirty = false;
  if ('dir' in at) {
    cwd = at.dir;
    rev = 'HEAD';
    const [head, status] = await Promise.all([
      runGit(['rev-parse', '--abbrev-ref', 'HEAD'], { cwd }).catch(() => ''),
      // As setuptools_scm tells it: changes to tracked files, untracked ones never count (and the user's index is not written).
      runGit(['--no-optional-locks', 'status', '--porcelain', '--untracked-files=no'], { cwd }).catch(() => ''),
    ]);
    branch = head && head !== 'HEAD' ? head : undefined;
    dirty = status.trim() !== '';
  } else {
    cwd = await history(at.url, at.commit);
    rev = at.commit;
    branch =
      at.ref &&
      (await runGit(['rev-parse', '--verify', '--quiet', `refs/heads/${at.ref}`], { cwd }).then(
        () => at.ref,
        () => undefined,
      ));
  }
  const described = await runGit(['describe', '--tags', '--long', ...match.flatMap((m) => ['--match', m]), rev], {
    cwd,
  }).catch(() => undefined);
  const [commit = '', short = '', date = '', shallow = ''] = (
    await runGit(['log', '-n', '1', '--format=%H%n%h%n%cI', rev, '--'], { cwd }).then(
      async (out) => `${out}\n${await runGit(['rev-parse', '--is-shallow-repository'], { cwd })}`,
    )
  ).split('\n');
  const m = described && /^(.*)-(\d+)-g[0-9a-f]+$/.exec(described);
  const distance = m ? Number(m[2]) : Number(await runGit(['rev-list', '--count', rev], { cwd }));
  return {
    ...(m ? { tag: m[1]! } : {}),
    distance,
    commit,
    short,
    dirty,
    ...(branch ? { branch } : {}),
    date,
    shallow: shallow === 'true',
  };
}

/**
 * A repository's branches and tags with their whole history, in a bare repository of its own in
 * nfhot's cache (kept: the next fetch brings only what is new), and `commit` among them.
 */
async function history(url: string, commit: string): Promise<string> {
  const repo = join(cacheDir(), 'git-history', hashHex(stripCredentials(url)).slice(0, 24));
  await bareRepository(repo);
  const fetch = (...refspecs: string[]) =>
    runGit(['fetch', '--quiet', '--no-tags', '--prune', '--', url, ...refspecs], { cwd: repo });
  try {
    await fetch('+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*');
    // A commit on no branch or tag (a pull request's, say) is asked for by itself.
    if (
      !(await runGit(['cat-file', '-e', `${commit}^{commit}`], { cwd: repo }).then(
        () => true,
        () => false,
      ))
    )
      await fetch(`+${commit}:refs/nfhot/want`);
  } catch (err) {
    throw gitError(
      err,
      `cannot fetch the history of ${url} (for the version git gives it)`,
      'check the URL and your git credentials',
    );
  }
  return repo;
}
