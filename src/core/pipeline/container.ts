import { tokenize } from './lexer.js';

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

/** `workflow.containerEngine == 'singularity' ? A : B` and its variants: which branch Docker takes. */
function engineTernary(text: string): string | undefined {
  const m = /^([\s\S]*?)\?\s*(['"])([^'"]*)\2\s*:\s*(['"])([^'"]*)\4\s*$/.exec(text.trim());
  if (!m || !/containerEngine/.test(m[1]!)) return undefined;
  const condition = m[1]!;
  const singularityFirst = /containerEngine\s*(==|in\b)[^?]*(singularity|apptainer)/.test(condition);
  const dockerFirst = /containerEngine\s*!=\s*['"](singularity|apptainer)/.test(condition) || /containerEngine\s*==\s*['"](docker|podman)/.test(condition);
  if (singularityFirst === dockerFirst) return undefined;
  return singularityFirst ? m[5] : m[3];
}

/** Reads a container setting: a literal, the nf-core engine ternary, or something only Nextflow can evaluate. */
export function classifyContainer(text: string, from = ''): ContainerValue {
  const tokens = tokenize(text).filter((t) => t.type !== 'newline');
  const only = tokens.length === 1 ? tokens[0] : undefined;
  if (only?.type === 'string' && !only.interpolated) return { kind: 'image', image: only.value.trim(), text, from };
  // "${ cond ? 'a' : 'b' }": the whole string is one interpolation.
  const inner = only?.type === 'string' && /^\$\{([\s\S]*)\}$/.exec(only.value.trim())?.[1];
  const docker = engineTernary(inner || text);
  if (docker !== undefined) return { kind: 'image', image: docker.trim(), text, from };
  const why =
    tokens[0]?.value === '{' ? 'it is a closure, evaluated per task'
    : only?.type === 'string' ? 'it interpolates values known only at run time'
    : 'it is an expression only Nextflow can evaluate';
  return { kind: 'unresolved', text, from, why };
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
