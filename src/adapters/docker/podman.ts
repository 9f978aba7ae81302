// Podman through its Docker-compatible API service (`podman system service`). The Docker adapter
// works there except in three ways, which this one makes up for:
// - Podman names images in full (docker.io/org/tool:dev, and localhost/tool:dev for a short name
//   given to the podman CLI); nfhot and Nextflow speak Docker's familiar names.
// - Its list of images carries no labels (the libpod list does).
// - Its commit ignores the config in the request: the image would keep the install command as its
//   CMD and get none of nfhot's labels. Its libpod commit takes Dockerfile-style changes instead.
// - It does not pass what is written to an attached stdin on: a work container's input is copied
//   in before it starts.
import type Docker from 'dockerode';
import { UserError } from '../../core/base/errors.js';
import { readImageRef, shortId } from '../../core/image/reference.js';
import { DockerodeEngine, splitRef } from './dockerode.js';
import type {
  ImageConfig,
  ImageInfo,
  ImageSummary,
  RunResult,
  WorkContainer,
  WorkInput,
} from '../../core/ports/engine.js';
import { explain, follow, isEmpty } from './io.js';
import { DockerWorkContainer } from './work-container.js';

const SHORT = 'localhost/';

function familiar(name: string, part: 'familiar' | 'name'): string {
  return readImageRef(name.startsWith(SHORT) ? name.slice(SHORT.length) : name)?.[part] ?? name;
}

/** Docker's name for an image name or `repository@digest` as Podman lists it. */
export function familiarName(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? familiar(name, 'familiar') : `${familiar(name.slice(0, at), 'name')}${name.slice(at)}`;
}

/** Dockerfile-style changes that make a Podman commit carry `config`'s command, user, working directory and labels. */
export function commitChanges(config: ImageConfig): string[] {
  const list = (v: unknown) => JSON.stringify(Array.isArray(v) ? v : []);
  // Entrypoint first: Podman applies them in its own order, and both are always given.
  const changes = [`ENTRYPOINT ${list(config.Entrypoint)}`, `CMD ${list(config.Cmd)}`];
  if (typeof config.User === 'string' && config.User) changes.push(`USER ${config.User}`);
  if (typeof config.WorkingDir === 'string' && config.WorkingDir) changes.push(`WORKDIR ${config.WorkingDir}`);
  // Podman takes the value verbatim after one pair of surrounding quotes is removed.
  for (const [key, value] of Object.entries(config.Labels ?? {})) changes.push(`LABEL ${key}="${value}"`);
  return changes;
}

/** What of `wanted` a committed config lacks (Podman may add environment; it must not change these). */
export function configMismatch(wanted: ImageConfig, got: ImageConfig): string | undefined {
  const same = (a: unknown, b: unknown) => (isEmpty(a) && isEmpty(b)) || JSON.stringify(a) === JSON.stringify(b);
  for (const key of ['Entrypoint', 'Cmd'] as const)
    if (!same(wanted[key], got[key])) return `${key} ${JSON.stringify(got[key])}`;
  if ((wanted.User ?? '') !== (got.User ?? '')) return `User ${JSON.stringify(got.User)}`;
  for (const [key, value] of Object.entries(wanted.Labels ?? {}))
    if (got.Labels?.[key] !== value) return `label ${key}`;
  return undefined;
}

/** A libpod endpoint (they answer only under a versioned path; 4.0.0 is the oldest of Podman 4). */
function dial<T>(
  docker: Docker,
  method: 'GET' | 'POST',
  path: string,
  query: Record<string, unknown> = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        method,
        path: `/v4.0.0${path}?`,
        options: query,
        statusCodes: {
          200: true,
          201: true,
          400: 'bad request',
          404: 'no such object',
          409: 'conflict',
          500: 'server error',
        },
      },
      (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as T)),
    );
  });
}

interface LibpodImage {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Labels?: Record<string, string> | null;
}

class PodmanWorkContainer extends DockerWorkContainer {
  override async run(
    input: WorkInput,
    onStderr?: (chunk: string) => void,
    answered?: (chunk: string, stdout: () => string) => boolean,
  ): Promise<RunResult> {
    try {
      for (const tar of this.archives(input)) await this.container.putArchive(tar, { path: '/' });
    } catch (err) {
      for (const a of input.archives) a.destroy();
      throw this.failure(err, 'cannot copy the source into the container');
    }
    return super.run({ archives: [], files: {} }, onStderr, answered, false);
  }

  /** Podman's load wants every layer of the image in the archive: its engine does not add layers (addsLayers). */
  override addLayer(): Promise<string> {
    return Promise.reject(new Error('Podman does not load a layer onto an image it has'));
  }

  override async commit(config: ImageConfig, comment: string): Promise<string> {
    let id: string | undefined;
    try {
      ({ Id: id } = await dial<{ Id: string }>(this.docker, 'POST', '/libpod/commit', {
        container: this.id,
        comment,
        format: 'docker', // the comment needs Docker's image format; Docker's daemon commits in it too
        pause: false,
        changes: commitChanges(config),
      }));
      const got = (await this.docker.getImage(id).inspect()).Config as unknown as ImageConfig;
      const mismatch = configMismatch(config, got);
      if (mismatch)
        throw new UserError(
          `Podman committed the patch with another ${mismatch} than the original's`,
          'nfhot removed it; please report your Podman version',
        );
      return id.startsWith('sha256:') ? id : `sha256:${id}`;
    } catch (err) {
      if (id)
        await this.docker
          .getImage(id)
          .remove({ noprune: true })
          .catch(() => undefined);
      throw this.failure(err, 'cannot commit the patch');
    }
  }
}

export class PodmanEngine extends DockerodeEngine {
  /** Podman loses one of two names given to an image at the same time (measured: 8 parallel tags, 7 names): its name changes go one by one. */
  private naming: Promise<unknown> = Promise.resolve();

  private oneByOne<T>(change: () => Promise<T>): Promise<T> {
    const done = this.naming.then(change, change);
    this.naming = done.catch(() => undefined);
    return done;
  }

  override async ping(): Promise<void> {
    try {
      await super.ping();
    } catch (err) {
      if (!(err instanceof UserError) || !/^cannot reach/.test(err.message)) throw err;
      const socket = this.address.replace(/^unix:\/\//, '');
      throw new UserError(
        err.message.replace(/the Docker daemon at \S+/, `Podman at ${this.address}`),
        `start Podman's API service: podman system service --time=0 unix://${socket} &`,
      );
    }
  }

  /** Podman's load wants every layer in the archive: a working copy's changes are installed in a container. */
  override readonly addsLayers = false;
  override readonly kind = 'podman';

  override async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    const info = await super.inspectImage(ref);
    return (
      info && { ...info, repoTags: info.repoTags.map(familiarName), repoDigests: info.repoDigests.map(familiarName) }
    );
  }

  override async listImages(references?: string[]): Promise<ImageSummary[]> {
    let list: LibpodImage[];
    try {
      list = await dial<LibpodImage[]>(this.docker, 'GET', '/libpod/images/json');
    } catch (err) {
      throw explain(err, 'cannot list images');
    }
    // Podman's RepoDigests pair every name with every digest it knows; a name by digest (made by
    // recordPush below) is what says where the image was pushed.
    const images = list.map((i) => {
      const names = (i.RepoTags ?? []).map(familiarName);
      return {
        id: i.Id.startsWith('sha256:') ? i.Id : `sha256:${i.Id}`,
        repoTags: names.filter((n) => !n.includes('@')),
        repoDigests: names.filter((n) => n.includes('@')),
        labels: i.Labels ?? {},
      };
    });
    if (!references) return images;
    // As Docker's reference filter: a name with a tag matches that tag, one without matches the repository.
    const wanted = new Set(references);
    return images.filter((i) => i.repoTags.some((t) => wanted.has(t) || wanted.has(t.slice(0, t.lastIndexOf(':')))));
  }

  /** Podman keeps no record of what a registry stored: pulling the image back by the registry's digest (only its manifest travels) names it so. */
  protected override async recordPush(
    repo: string,
    digest: string,
    authconfig: Docker.AuthConfig | undefined,
  ): Promise<void> {
    const byDigest = `${repo}@${digest}`;
    try {
      await this.oneByOne(async () =>
        follow(this.docker, await this.docker.pull(byDigest, authconfig ? { authconfig } : {})),
      );
    } catch (err) {
      throw explain(err, `pushed ${byDigest}, but cannot name the local image by it`);
    }
  }

  /** Re-points the name Podman resolves `ref` to now (what `podman run ref` runs), else gives it Podman's name for `ref`. */
  override tag(imageId: string, ref: string): Promise<void> {
    return this.oneByOne(() => this.rename(imageId, ref));
  }

  override untag(ref: string): Promise<void> {
    return this.oneByOne(() => super.untag(ref));
  }

  private async rename(imageId: string, ref: string): Promise<void> {
    try {
      const names = ((
        await this.docker
          .getImage(ref)
          .inspect()
          .catch(() => undefined)
      )?.RepoTags ?? []) as string[];
      const full = names.find((n) => familiarName(n) === familiarName(ref)) ?? ref;
      await dial(this.docker, 'POST', `/libpod/images/${encodeURIComponent(imageId)}/tag`, splitRef(full));
    } catch (err) {
      throw explain(err, `cannot tag ${shortId(imageId)} as ${ref}`);
    }
  }

  protected override readonly streamsInput = false;

  protected override workContainer(container: Docker.Container): WorkContainer {
    return new PodmanWorkContainer(this.docker, container);
  }
}
