import { evaluate, truthy, Unknown, type Facts } from './evaluate.js';

/** A `container` setting as nfhot reads it statically. */
export type ContainerValue =
  | {
      kind: 'image';
      /** The name Docker is asked for: as Nextflow normalises it. */
      image: string;
      /** The setting's source text, to keep for engines nfhot does not patch. */
      text: string;
      from: string;
    }
  | { kind: 'unresolved'; text: string; from: string; why: string };

/** Before a run, under Docker, with no profile and nothing else known. */
export const DOCKER_FACTS: Facts = {
  engine: 'docker',
  profile: 'standard',
  param: (name) => new Unknown([`params.${name}`]),
};

/** What an Unknown depends on, for people. */
export function dependsOn(u: Unknown): string {
  const say = (on: string) =>
    on.startsWith('params.') ? `${on} (no config sets it)` : on.startsWith('task.') ? `${on} (known per task)` : on;
  return `it depends on ${u.on.map(say).join(', ') || 'what only Nextflow can evaluate'}`;
}

/**
 * Reads a container setting as Nextflow would evaluate it with `facts`: a literal, the nf-core
 * engine ternary, a closure or an `if` over the profiles, params and `task.ext`. Undefined: it
 * evaluates to no container.
 */
export function classifyContainer(text: string, from = '', facts: Facts = DOCKER_FACTS): ContainerValue | undefined {
  const value = evaluate(text, facts);
  if (value instanceof Unknown) return { kind: 'unresolved', text, from, why: dependsOn(value) };
  if (typeof value === 'string' && value.trim()) return { kind: 'image', image: value.trim(), text, from };
  if (!truthy(value)) return undefined;
  return { kind: 'unresolved', text, from, why: `it evaluates to ${JSON.stringify(value)}, not an image name` };
}

/** Nextflow's name for a Docker image (ContainerHandler.normalizeDockerImageName). */
export function normalizeDockerName(image: string, registry: string | undefined, override: boolean): string {
  if (!registry) return image;
  const slash = image.indexOf('/');
  const absolute = slash > 0 && /[.:]/.test(image.slice(0, slash));
  if (!absolute) return `${registry.replace(/\/+$/, '')}/${image}`;
  if (!override) return image;
  return `${registry.replace(/\/+$/, '')}/${image.slice(slash + 1)}`;
}
