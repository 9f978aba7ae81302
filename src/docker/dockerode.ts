import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import Docker from 'dockerode';
import { UserError } from '../core/errors.js';
import type { ContainerSummary, Engine, ExecOptions, ImageConfig, ImageInfo, ImageSummary, RunResult, WorkContainer } from './engine.js';
import { historyFromApi, type HistoryItem } from './history.js';
import { tarOf } from './tar.js';

interface DockerError extends Error {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'EPERM', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ECONNRESET', 'EPIPE']);

function daemonAddress(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

function unreachable(cause: string): UserError {
  return new UserError(
    `cannot reach the Docker daemon at ${daemonAddress()} (${cause})`,
    process.env.DOCKER_HOST
      ? 'check DOCKER_HOST, or unset it to use the local socket'
      : 'start it (as root: `dockerd >/var/log/dockerd.log 2>&1 &`, or `systemctl start docker`) and check that you may use /var/run/docker.sock',
  );
}

/** Turns what dockerode throws into one line a user can read. */
function explain(err: unknown, what: string): Error {
  const e = err as DockerError;
  if (e instanceof UserError) return e;
  if (e?.code && UNREACHABLE.has(e.code)) return unreachable(e.code);
  const message = e?.json?.message ?? (typeof e?.json === 'string' ? e.json : undefined) ?? e?.message ?? String(err);
  return new UserError(`${what}: ${String(message).trim()}`);
}

function statusOf(err: unknown): number | undefined {
  return (err as DockerError)?.statusCode;
}

function splitRef(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: 'latest' };
}

function collect(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

/** Splits Docker's multiplexed stdout/stderr stream; resolves when it ends. */
function demux(docker: Docker, stream: NodeJS.ReadableStream, onStderr?: (chunk: string) => void): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const stdout = collect(out);
  const stderr: string[] = [];
  err.on('data', (c: Buffer) => {
    const text = c.toString('utf8');
    stderr.push(text);
    onStderr?.(text);
  });
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve, reject) => {
    const finish = () => {
      out.end();
      err.end();
      stdout.then((s) => resolve({ stdout: s, stderr: stderr.join('') }), reject);
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', reject);
  });
}

const isEmpty = (v: unknown) => v == null || (Array.isArray(v) && v.length === 0);

export class DockerodeEngine implements Engine {
  private readonly docker = new Docker();

  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unreachable('no answer within 10 s')), 10_000);
    });
    try {
      await Promise.race([this.docker.ping(), timeout]);
    } catch (err) {
      throw explain(err, 'the Docker daemon did not answer');
    } finally {
      clearTimeout(timer);
    }
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      const data = await this.docker.getImage(ref).inspect();
      const config = (data.Config ?? {}) as unknown as ImageConfig;
      return {
        id: data.Id,
        repoTags: data.RepoTags ?? [],
        config,
        labels: config.Labels ?? {},
        layers: data.RootFS?.Layers?.length ?? 0,
        size: data.Size,
      };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw explain(err, `cannot inspect image ${ref}`);
    }
  }

  async listImages(): Promise<ImageSummary[]> {
    try {
      const list = await this.docker.listImages();
      return list.map((i) => ({
        id: i.Id,
        repoTags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
        labels: i.Labels ?? {},
      }));
    } catch (err) {
      throw explain(err, 'cannot list images');
    }
  }

  async tag(imageId: string, ref: string): Promise<void> {
    try {
      await this.docker.getImage(imageId).tag(splitRef(ref));
    } catch (err) {
      throw explain(err, `cannot tag ${imageId.slice(0, 19)} as ${ref}`);
    }
  }

  async untag(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ noprune: true });
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 409) return; // gone, or a container still uses it: leave it
      throw explain(err, `cannot remove tag ${ref}`);
    }
  }

  async run(image: string, argv: string[], options: { user: string; labels: Record<string, string> }): Promise<RunResult> {
    let container: Docker.Container | undefined;
    try {
      container = await this.docker.createContainer({
        Image: image,
        Entrypoint: argv,
        Cmd: [],
        User: options.user,
        Labels: options.labels,
        HostConfig: { NetworkMode: 'none' },
      });
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const output = demux(this.docker, stream);
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const { stdout, stderr } = await output;
      return { exitCode: StatusCode, stdout, stderr };
    } catch (err) {
      throw explain(err, `cannot run a container from ${image.slice(0, 19)}`);
    } finally {
      await container?.remove({ force: true }).catch(() => undefined);
    }
  }

  async createWorkContainer(options: { name: string; image: string; config: ImageConfig }): Promise<WorkContainer> {
    // The container idles in a shell waiting on stdin while nfhot execs into it (as root). Its
    // Cmd and Entrypoint are chosen so that commit's merge gives back the original's (see
    // commit()); nothing else is set on it, since commit would copy that too.
    const keepAlive = isEmpty(options.config.Entrypoint) ? { Cmd: ['/bin/sh'] } : { Entrypoint: ['/bin/sh'], Cmd: null };
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({ name: options.name, Image: options.image, ...keepAlive, OpenStdin: true } as Docker.ContainerCreateOptions);
    } catch (err) {
      throw explain(err, `cannot create a container from ${options.image.slice(0, 19)}`);
    }
    const work = new DockerWorkContainer(this.docker, container);
    try {
      await container.start();
    } catch (err) {
      await work.remove();
      const message = explain(err, 'cannot start a container').message;
      if (/no such file or directory|executable file not found/i.test(message)) {
        throw new UserError('the image has no /bin/sh, which nfhot (and Nextflow) need', undefined, message);
      }
      throw new UserError(message);
    }
    return work;
  }

  async createMarker(name: string, image: string, labels: Record<string, string>): Promise<boolean> {
    try {
      await this.docker.createContainer({ name, Image: image, Entrypoint: ['/nfhot-lock'], Cmd: [], Labels: labels, NetworkDisabled: true });
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw explain(err, `cannot create lock ${name}`);
    }
  }

  async listContainers(namePrefix: string): Promise<ContainerSummary[]> {
    try {
      const list = await this.docker.listContainers({ all: true, filters: { name: [namePrefix] } });
      return list
        .map((c) => ({ id: c.Id, name: (c.Names?.[0] ?? '').replace(/^\//, ''), labels: c.Labels ?? {} }))
        .filter((c) => c.name.startsWith(namePrefix));
    } catch (err) {
      throw explain(err, 'cannot list containers');
    }
  }

  async removeContainer(nameOrId: string): Promise<void> {
    try {
      await this.docker.getContainer(nameOrId).remove({ force: true, v: true });
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 409) return; // gone, or already being removed
      throw explain(err, `cannot remove container ${nameOrId}`);
    }
  }
}

class DockerWorkContainer implements WorkContainer {
  constructor(
    private readonly docker: Docker,
    private readonly container: Docker.Container,
  ) {}

  get id(): string {
    return this.container.id;
  }

  async putArchive(tar: Readable, dir: string): Promise<void> {
    try {
      await this.container.putArchive(tar, { path: dir });
    } catch (err) {
      throw explain(err, 'cannot copy the source into the container');
    }
  }

  async exec(cmd: string[], options: ExecOptions): Promise<RunResult> {
    try {
      const exec = await this.container.exec({ Cmd: cmd, User: options.user, Env: options.env ?? [], AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      const { stdout, stderr } = await demux(this.docker, stream, options.onStderr);
      const { ExitCode } = await exec.inspect();
      return { exitCode: ExitCode ?? -1, stdout, stderr };
    } catch (err) {
      throw explain(err, 'cannot run a command in the container');
    }
  }

  async kill(): Promise<void> {
    await this.container.kill().catch(() => undefined);
  }

  async commit(config: ImageConfig, comment: string): Promise<string> {
    try {
      await this.kill();
      await this.container.wait();
      const { Id } = (await this.container.commit({ _query: { container: this.id, comment, pause: false }, _body: config })) as { Id: string };
      // Commit fills an empty Cmd and Entrypoint from the container's; only a config written
      // over the same layers gives such an image back exactly.
      if (isEmpty(config.Cmd) && isEmpty(config.Entrypoint)) return await this.rewriteConfig(Id, config);
      return Id;
    } catch (err) {
      throw explain(err, 'cannot commit the patch');
    }
  }

  /** Writes `config` over the layers of `imageId` (docker load reuses layers it has) and drops `imageId`. */
  private async rewriteConfig(imageId: string, config: ImageConfig): Promise<string> {
    const image = this.docker.getImage(imageId);
    const data = await image.inspect();
    const diffIds = data.RootFS?.Layers ?? [];
    const history = historyFromApi((await image.history()) as HistoryItem[], diffIds.length);
    const raw = JSON.stringify({
      architecture: data.Architecture,
      os: data.Os,
      ...((data as { Variant?: string }).Variant ? { variant: (data as { Variant?: string }).Variant } : {}),
      created: data.Created,
      config,
      rootfs: { type: 'layers', diff_ids: diffIds },
      history,
    });
    const hex = createHash('sha256').update(raw).digest('hex');
    const manifest = [{ Config: `${hex}.json`, RepoTags: null, Layers: diffIds.map((_, i) => `layer-${i}.tar`) }];
    const tar = tarOf({ 'manifest.json': JSON.stringify(manifest), [`${hex}.json`]: raw });
    const response = await this.docker.loadImage(tar as unknown as string, { quiet: true });
    const text = await collect(response as NodeJS.ReadableStream);
    const failure = /"error(?:Detail)?"\s*:\s*(?:\{"message":)?"([^"]+)"/.exec(text);
    if (failure) throw new Error(`docker load refused the patched config: ${failure[1]}`);
    await image.remove({ noprune: true }).catch(() => undefined);
    return `sha256:${hex}`;
  }

  async remove(): Promise<void> {
    await this.container.remove({ force: true, v: true }).catch((err: unknown) => {
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw explain(err, 'cannot remove the work container');
    });
  }
}
