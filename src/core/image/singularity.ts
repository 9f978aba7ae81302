// Singularity/Apptainer images of the patched derivatives. Nextflow turns a Docker name into
// docker://NAME and pulls it into a file in its cache directory, reused without a freshness check;
// an absolute path to a SIF file it uses as is, and hashes for -resume. So nfhot builds one file
// per patch set from the local daemon (docker-daemon://) and the include names it by path.
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Programs } from '../ports/programs.js';
import { UserError } from '../base/errors.js';

export const SIF_ENGINES = ['singularity', 'apptainer'] as const;
export type SifEngine = (typeof SIF_ENGINES)[number];

/** What the pipeline's config says of Singularity/Apptainer (literal values only). */
export interface SifSettings {
  /** The engine the config enables, if one. */
  enabled?: SifEngine;
  cacheDir: Partial<Record<SifEngine, string>>;
  workDir?: string;
}

/** The file of one patch set: unique, as the derivative's tag holds the patch set's hash. */
export function sifName(derivative: string): string {
  return `${derivative.replace(/[:/]/g, '-')}.sif`;
}

/**
 * Where Nextflow keeps that engine's images: `<engine>.cacheDir` in the config, else
 * NXF_<ENGINE>_CACHEDIR, else <ENGINE>_PULLFOLDER, else <workDir>/singularity (for Apptainer too).
 */
export function sifCacheDir(
  engine: SifEngine,
  pipelineDir: string,
  settings: SifSettings,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const prefix = engine.toUpperCase();
  const dir =
    settings.cacheDir[engine] ||
    env[`NXF_${prefix}_CACHEDIR`] ||
    env[`${prefix}_PULLFOLDER`] ||
    join(settings.workDir || env.NXF_WORK || 'work', 'singularity');
  return isAbsolute(dir) ? dir : resolve(pipelineDir, dir);
}

export interface SifProgram {
  engine: SifEngine;
  program: string;
}

/** The program on PATH: the one asked for, else singularity, else apptainer; undefined when none is there. */
export function findSifProgram(preferred?: SifEngine, path = process.env.PATH ?? ''): SifProgram | undefined {
  const order: SifEngine[] = preferred === 'apptainer' ? ['apptainer', 'singularity'] : ['singularity', 'apptainer'];
  for (const engine of order) {
    for (const dir of path.split(delimiter).filter(Boolean)) {
      const program = join(dir, engine);
      try {
        accessSync(program, constants.X_OK);
        return { engine, program };
      } catch {
        // not in this directory
      }
    }
  }
  return undefined;
}

/** The build command: the derivative as the local Docker daemon has it, into `target`. */
export function sifBuildArgs(derivative: string, target: string): string[] {
  return ['build', target, `docker-daemon://${derivative}`];
}

/**
 * Builds the SIF file of `derivative` into `dir` (kept when it exists: a patch set's file never
 * changes). Written under a temporary name and renamed, so Nextflow never finds half a file.
 */
export async function buildSif(
  programs: Programs,
  program: string,
  derivative: string,
  dir: string,
  onLine?: (line: string) => void,
): Promise<{ path: string; built: boolean }> {
  const path = join(dir, sifName(derivative));
  if (existsSync(path)) return { path, built: false };
  mkdirSync(dir, { recursive: true });
  const partial = join(dir, `.${sifName(derivative)}.${process.pid}.partial`);
  try {
    const result = await programs.run(program, sifBuildArgs(derivative, partial), onLine ? { onLine } : {});
    if (result.exitCode !== 0 || !existsSync(partial)) {
      const last = result.all.trim().split('\n').slice(-3).join(' ').trim();
      throw new UserError(
        `${program} could not build ${sifName(derivative)} from ${derivative}${last ? `: ${last}` : ` (exit ${result.exitCode})`}`,
        `run the same command by hand to see more: ${[program, ...sifBuildArgs(derivative, path)].join(' ')}`,
      );
    }
    renameSync(partial, path);
    return { path, built: true };
  } finally {
    rmSync(partial, { force: true });
  }
}

/** The program, or a clear error when neither is on PATH. */
export function requireSifProgram(preferred?: SifEngine): SifProgram {
  const found = findSifProgram(preferred);
  if (!found) {
    throw new UserError(
      '--singularity needs singularity or apptainer on PATH, and neither is',
      'install Apptainer or SingularityCE on this machine, or leave out --singularity',
    );
  }
  return found;
}
