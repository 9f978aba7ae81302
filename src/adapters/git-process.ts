// git as a process: the environment nfhot runs it in, its failures as a user reads them, and a
// bare repository made safely when nfhot processes start together.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type ExecaError, execa } from 'execa';
import { UserError } from '../core/base/errors.js';
import { redact } from '../core/base/redact.js';
import type { TreeRef } from '../core/ports/git.js';

export type Env = Record<string, string>;

/** A failed git command as the user reads it: its last fatal or error line, credentials redacted. */
export function gitError(err: unknown, what: string, hint?: string): UserError {
  const e = err as ExecaError;
  const stderr = typeof e?.stderr === 'string' ? e.stderr.trim() : '';
  const last =
    stderr
      .split('\n')
      .filter((l) => /^(fatal|error):/.test(l))
      .pop() ??
    stderr.split('\n').pop() ??
    '';
  if ((e as { code?: string })?.code === 'ENOENT') {
    // Spawning fails the same way when its working directory is missing.
    if (e.cwd && !existsSync(e.cwd)) return new UserError(redact(`${what}: no such directory ${e.cwd}`));
    return new UserError('git is not installed on this machine', 'install git (apt-get install git)');
  }
  return new UserError(
    redact(`${what}: ${last.replace(/^(fatal|error):\s*/, '') || e?.shortMessage || String(err)}`),
    hint,
    redact(stderr),
  );
}

/** No system configuration; a prompt for credentials only on a terminal; the objects of the user's checkout when a tree lives there. */
export function baseEnv(tree?: TreeRef): Env {
  const env: Env = { GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: process.stdin.isTTY ? '1' : '0' };
  if (tree?.alternates) env.GIT_ALTERNATE_OBJECT_DIRECTORIES = tree.alternates;
  return env;
}

/** One git command in `cwd`; its output. */
export async function runGit(args: string[], options: { env?: Env; cwd: string; input?: string }): Promise<string> {
  // No `git maintenance run --auto` after a fetch: the cache never needs it (gc.auto is 0), and it is a process more.
  const { stdout } = await execa('git', ['-c', 'protocol.ext.allow=never', '-c', 'maintenance.auto=false', ...args], {
    cwd: options.cwd,
    env: { ...baseEnv(), ...options.env },
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    stripFinalNewline: true,
  });
  return stdout;
}

/** A bare repository at `path`, made aside and renamed into place (nfhot processes started together each make one, one wins). */
export async function bareRepository(path: string, config?: [string, string]): Promise<void> {
  if (existsSync(join(path, 'HEAD'))) return;
  await mkdir(dirname(path), { recursive: true });
  const made = await mkdtemp(`${path}.tmp-`);
  try {
    await runGit(['init', '--bare', '--quiet', made], { cwd: made });
    if (config) await runGit(['config', ...config], { cwd: made });
    await rename(made, path);
  } catch (err) {
    if (!existsSync(join(path, 'HEAD'))) throw err;
  } finally {
    await rm(made, { recursive: true, force: true });
  }
}
