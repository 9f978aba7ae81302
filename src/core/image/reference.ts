import { createHash } from 'node:crypto';
import { UsageError, UserError } from '../base/errors.js';

/** A Docker image reference split into its parts, in Docker's familiar form (no docker.io/library/). */
export interface ImageRef {
  /** Registry host, '' for Docker Hub. */
  domain: string;
  /** Repository path without the domain, e.g. 'org/tool' or 'ubuntu'. */
  path: string;
  tag: string;
  /** `domain/path`, or `path` for Docker Hub. */
  name: string;
  /** `name:tag`: the form Docker lists in RepoTags. */
  familiar: string;
}

/** The namespace of every reference nfhot makes: absolute for Nextflow (the host part has a '.'). */
export const NFHOT_HOST = 'nfhot.local';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME = 255;

function invalid(input: string, why: string): UserError {
  return new UserError(
    `invalid image reference ${JSON.stringify(input)}: ${why}`,
    'give a reference like org/tool:dev or quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0',
  );
}

/** Parses a reference the way Docker does; a missing tag means `latest`. Digests are refused: they cannot be re-pointed. */
export function parseImageRef(input: string): ImageRef {
  if (input.length === 0) throw invalid(input, 'it is empty');
  if (input.length > MAX_NAME + 130) throw invalid(`${input.slice(0, 60)}…`, 'it is too long');
  if (/[\s\x00-\x1f]/.test(input)) throw invalid(input, 'it contains whitespace or control characters');
  if (input.includes('@')) {
    throw new UserError(
      `cannot patch ${input}: a digest reference names immutable content`,
      'patch the image by its tag (e.g. org/tool:dev)',
    );
  }
  let rest = input;
  let tag = 'latest';
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(input, `tag ${JSON.stringify(tag)} is not valid`);
  }
  let domain = '';
  const firstSlash = rest.indexOf('/');
  if (firstSlash > 0) {
    const first = rest.slice(0, firstSlash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      rest = rest.slice(firstSlash + 1);
      if (!DOMAIN.test(domain)) throw invalid(input, `registry ${JSON.stringify(domain)} is not valid`);
    }
  }
  if (domain === 'docker.io' || domain === 'index.docker.io') domain = '';
  if (domain === '' && rest.startsWith('library/') && rest.split('/').length === 2)
    rest = rest.slice('library/'.length);
  const components = rest.split('/');
  for (const c of components) {
    if (!COMPONENT.test(c)) {
      throw invalid(
        input,
        c === ''
          ? 'it has an empty path component'
          : `${JSON.stringify(c)} is not a valid repository name component (lowercase letters, digits, separators)`,
      );
    }
  }
  const name = domain ? `${domain}/${rest}` : rest;
  if (name.length > MAX_NAME) throw invalid(input, 'the repository name is longer than 255 characters');
  return { domain, path: rest, tag, name, familiar: `${name}:${tag}` };
}

/** An image ID as people read it: 12 hex digits, without `sha256:`. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** parseImageRef for names nfhot did not choose (labels, configs, an engine's list): undefined when not a valid reference. */
export function readImageRef(input: string): ImageRef | undefined {
  try {
    return parseImageRef(input);
  } catch {
    return undefined;
  }
}

export function hashHex(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

/**
 * nfhot's own repository for an image, nfhot.local/<registry as a path component>/<path>: its
 * keeper, derivatives and active reference.
 */
export function nfhotRepository(ref: ImageRef): string {
  const prefix = ref.domain ? `${ref.domain.toLowerCase().replace(/:/g, '-')}/` : '';
  const repo = `${NFHOT_HOST}/${prefix}${ref.path}`;
  return repo.length <= MAX_NAME ? repo : `${NFHOT_HOST}/h-${hashHex(ref.name).slice(0, 32)}`;
}

/** Appends a suffix to a tag, shortening the tag (with a hash for uniqueness) to stay within 128 characters. */
function suffixTag(tag: string, suffix: string): string {
  if (tag.length + suffix.length <= 128) return tag + suffix;
  return `${tag.slice(0, 128 - suffix.length - 9)}-${hashHex(tag).slice(0, 8)}${suffix}`;
}

/** The immutable reference of one (original image, patch set): a new key gives a new name, the same key the same name. */
export function derivativeRef(ref: ImageRef, key: string): string {
  return `${nfhotRepository(ref)}:${suffixTag(ref.tag, `-${key.slice(0, 12)}`)}`;
}

/** The tag that keeps the original image reachable (and safe from prune) while the image is patched. */
export function keeperRef(ref: ImageRef): string {
  return `${nfhotRepository(ref)}:${suffixTag(ref.tag, '-original')}`;
}

/** With --keep-tag, the image's own tag stays on the original: this tag names the active derivative instead. */
export function activeRef(ref: ImageRef): string {
  return `${nfhotRepository(ref)}:${suffixTag(ref.tag, '-active')}`;
}

/** One of nfhot's references: in its namespace, or under a registry that Nextflow maps onto it. */
export function isNfhotRef(input: string): boolean {
  return input.startsWith(`${NFHOT_HOST}/`) || input.includes(`/${NFHOT_HOST}/`);
}

/** Checks `REGISTRY[/PREFIX]` (as given to --to or --push) and returns it without a trailing slash. */
export function registryTarget(to: string): string {
  const target = to.replace(/\/+$/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target))
    throw new UsageError(
      `invalid registry ${JSON.stringify(to)}: give it without a scheme`,
      'e.g. --to registry.example.org/team or --to 127.0.0.1:5000',
    );
  const host = target.split('/')[0]!;
  if (!(host.includes('.') || host.includes(':') || host === 'localhost')) {
    throw new UsageError(
      `invalid registry ${JSON.stringify(to)}: ${host} is not a registry host (it needs a "." or a ":port", or is localhost)`,
      'e.g. --to registry.example.org/team, --to 123456789012.dkr.ecr.eu-west-1.amazonaws.com or --to 127.0.0.1:5000',
    );
  }
  try {
    parseImageRef(`${target}/x`);
  } catch (err) {
    throw new UsageError(`invalid registry ${JSON.stringify(to)}: ${(err as Error).message}`);
  }
  return target;
}

/**
 * Where a derivative goes in a registry: `REGISTRY[/PREFIX]/<the derivative's path>:<its tag>`,
 * so that the registry holds one repository per original image and one tag per patch set.
 */
export function pushedRef(derivative: string, to: string): string {
  const ref = `${registryTarget(to)}/${derivative.slice(NFHOT_HOST.length + 1)}`;
  try {
    return parseImageRef(ref).familiar;
  } catch (err) {
    throw new UsageError(`invalid registry ${JSON.stringify(to)}: ${(err as Error).message}`);
  }
}
