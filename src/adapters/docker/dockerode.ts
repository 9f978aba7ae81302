import type Docker from 'dockerode';
import { UserError } from '../../core/base/errors.js';
import type { Programs } from '../../core/ports/programs.js';
import { parseImageRef, shortId } from '../../core/image/reference.js';
import { credentialsFor } from './auth.js';
import type {
  ContainerSummary,
  Engine,
  EngineName,
  ImageConfig,
  ImageInfo,
  ImageSummary,
  LayerEntry,
  PushResult,
  RunOptions,
  RunResult,
  WorkContainer,
} from '../../core/ports/engine.js';
import { dockerAddress, explain, follow, isEmpty, runToEnd, statusOf, unreachable, within } from './io.js';
import { layerTar, loadOnto } from './load.js';
import { DockerWorkContainer } from './work-container.js';

/**
 * What a container on the 'none' network gets too: no sandbox on it (`NetworkDisabled`), which
 * Docker takes about 0.1 s to set up as it starts it; its own empty network namespace instead.
 */
const NO_SANDBOX = { NetworkDisabled: true };

export function splitRef(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/')
    ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) }
    : { repo: ref, tag: 'latest' };
}

export class DockerodeEngine implements Engine {
  constructor(
    protected readonly docker: Docker,
    private readonly programs: Programs,
    readonly address: string = dockerAddress(),
    readonly cli: string = 'docker',
  ) {}

  readonly kind: EngineName = 'docker';

  async ping(): Promise<void> {
    try {
      if ((await within(this.docker.ping(), 10_000)) === undefined) throw unreachable('no answer within 10 s');
    } catch (err) {
      throw explain(err, 'the Docker daemon did not answer');
    }
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      const data = await this.docker.getImage(ref).inspect();
      const config = (data.Config ?? {}) as unknown as ImageConfig;
      return {
        id: data.Id,
        repoTags: data.RepoTags ?? [],
        repoDigests: data.RepoDigests ?? [],
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

  async listImages(references?: string[]): Promise<ImageSummary[]> {
    try {
      const list = await this.docker.listImages(references ? { filters: { reference: references } } : {});
      return list.map((i) => ({
        id: i.Id,
        repoTags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
        repoDigests: (i.RepoDigests ?? []).filter((d) => !d.startsWith('<none>')),
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
      throw explain(err, `cannot tag ${shortId(imageId)} as ${ref}`);
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

  async push(ref: string, onLayer?: (layer: string, status: string) => void): Promise<PushResult> {
    const { repo, tag } = splitRef(ref);
    const registry = parseImageRef(ref).domain || 'docker.io';
    const authconfig = await credentialsFor(registry, this.programs);
    const layers = new Map<string, string>();
    let digest: string | undefined;
    let failure: string | undefined;
    try {
      const stream = await this.docker.getImage(repo).push({ tag, ...(authconfig ? { authconfig } : {}) });
      await follow(
        this.docker,
        stream,
        (event: { id?: string; status?: string; error?: string; aux?: { Digest?: string } }) => {
          if (event.error) failure = event.error;
          // Docker says it in aux; Podman only in a status line ("TAG: digest: sha256:… size: N").
          digest ??= event.aux?.Digest ?? /\bdigest: (sha256:[0-9a-f]{64})/.exec(event.status ?? '')?.[1];
          if (
            event.id &&
            event.status &&
            /^(Pushed|Layer already exists|Mounted from)/.test(event.status) &&
            !layers.has(event.id)
          ) {
            layers.set(event.id, event.status);
            onLayer?.(event.id, event.status);
          }
        },
      );
    } catch (err) {
      failure ??= (explain(err, 'push') as Error).message.replace(/^push: /, '');
    }
    if (failure || !digest) {
      const why = failure ?? 'the daemon reported no digest';
      const hint = /unauthorized|authentication required|auth credentials|denied/i.test(why)
        ? `log in first (docker login ${registry}): nfhot uses the credentials in your Docker config`
        : /connection refused|no such host|timeout|dial tcp|server gave HTTP response/i.test(why)
          ? `check that a registry answers at ${registry} (for plain HTTP, list it as insecure: in Docker's insecure-registries, unless on 127.0.0.1; in Podman's registries.conf)`
          : undefined;
      throw new UserError(`cannot push ${ref}: ${why}`, hint);
    }
    await this.recordPush(repo, digest, authconfig);
    return { digest, layers: [...layers].map(([id, status]) => ({ id, status })) };
  }

  /** Makes the image's RepoDigests name `repo@digest` after a push: Docker's daemon does so itself. */
  protected async recordPush(
    _repo: string,
    _digest: string,
    _authconfig: Docker.AuthConfig | undefined,
  ): Promise<void> {}

  async run(image: string, argv: string[], options: RunOptions): Promise<RunResult> {
    let container: Docker.Container | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      container = await this.docker.createContainer({
        name: options.name,
        Image: image,
        ...(options.entrypoint ? { Cmd: argv } : { Entrypoint: argv, Cmd: [] }),
        ...(options.user === undefined ? {} : { User: options.user }),
        Labels: options.labels,
        ...NO_SANDBOX,
        HostConfig: { NetworkMode: 'none' },
      });
      const started = container;
      if (options.timeoutMs) timer = setTimeout(() => void started.kill().catch(() => undefined), options.timeoutMs);
      return await runToEnd(this.docker, container);
    } catch (err) {
      throw explain(err, `cannot run a container from ${shortId(image)}`);
    } finally {
      clearTimeout(timer);
      await container?.remove({ force: true }).catch(() => undefined);
    }
  }

  async createWorkContainer(options: {
    name: string;
    image: string;
    config: ImageConfig;
    argv: string[];
    network?: 'host' | 'none';
    memory?: string;
  }): Promise<WorkContainer> {
    // Commit fills an empty Cmd or Entrypoint of the config it is given from the container's: the
    // command goes where the original has one (or, when it has none, in Cmd, fixed at commit).
    const command = isEmpty(options.config.Entrypoint)
      ? { Cmd: options.argv }
      : { Entrypoint: options.argv, Cmd: null };
    try {
      // Root runs pip; set only when the image names another user (an empty User would be committed as '0').
      const user = options.config.User ? { User: '0' } : {};
      // Its files in memory when they come on stdin (files copied in before it starts would be hidden).
      const memory = options.memory && this.streamsInput ? { Tmpfs: { [options.memory]: 'rw,exec,nosuid,nodev' } } : {};
      const hostConfig = { ...(options.network ? { NetworkMode: options.network } : {}), ...memory };
      // Its input comes on stdin, closed once sent.
      const stdin = this.streamsInput ? { OpenStdin: true, StdinOnce: true, AttachStdin: true } : {};
      const container = await this.docker.createContainer({
        name: options.name,
        Image: options.image,
        ...command,
        ...user,
        ...(options.network === 'none' ? NO_SANDBOX : {}),
        ...(Object.keys(hostConfig).length ? { HostConfig: hostConfig } : {}),
        ...stdin,
      } as Docker.ContainerCreateOptions);
      return this.workContainer(container);
    } catch (err) {
      throw explain(err, `cannot create a container from ${shortId(options.image)}`);
    }
  }

  /** Whether a work container's input can go to its stdin (Podman's service does not pass it on). */
  protected readonly streamsInput: boolean = true;

  protected workContainer(container: Docker.Container): WorkContainer {
    return new DockerWorkContainer(this.docker, container);
  }

  readonly addsLayers: boolean = true;

  async addLayer(base: string, entries: LayerEntry[], config: ImageConfig, comment: string): Promise<string> {
    try {
      return await loadOnto(this.docker, base, config, { tar: layerTar(entries), comment });
    } catch (err) {
      throw explain(err, `cannot add a layer to ${shortId(base)}`);
    }
  }

  async createMarker(name: string, image: string, labels: Record<string, string>): Promise<string | undefined> {
    try {
      return (
        await this.docker.createContainer({
          name,
          Image: image,
          Entrypoint: ['/nfhot-lock'],
          Cmd: [],
          Labels: labels,
          NetworkDisabled: true,
        })
      ).id;
    } catch (err) {
      if (statusOf(err) === 409) return undefined;
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
