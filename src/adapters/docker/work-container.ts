import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { ContainerGoneError, UserError } from '../../core/base/errors.js';
import type { ImageConfig, LayerFile, RunResult, WorkContainer, WorkInput } from '../../core/ports/engine.js';
import { explain, isEmpty, runToEnd, statusOf } from './io.js';
import { loadOnto } from './load.js';
import { firstFile, tarOf } from './tar.js';

export class DockerWorkContainer implements WorkContainer {
  constructor(
    protected readonly docker: Docker,
    protected readonly container: Docker.Container,
  ) {}

  get id(): string {
    return this.container.id;
  }

  /**
   * What went wrong, in words. A created or ended container is a stopped one, which a prune may
   * remove: that is said apart, for the core to start again.
   */
  protected failure(err: unknown, what: string): Error {
    const explained = explain(err, what);
    return statusOf(err) === 404 && /no such container/i.test(explained.message)
      ? new ContainerGoneError(`the work container ${this.id.slice(0, 12)}`)
      : explained;
  }

  /** The input as it goes to the command's stdin: the archives, then one of the files. */
  protected archives(input: WorkInput): Readable[] {
    return [...input.archives, Readable.from([tarOf(input.files)])];
  }

  /** `stdin` false: the input is in the container already (copied in), stdin not attached. */
  async run(
    input: WorkInput,
    onStderr?: (chunk: string) => void,
    answered?: (chunk: string, stdout: () => string) => boolean,
    stdin = true,
  ): Promise<RunResult> {
    try {
      return await runToEnd(this.docker, this.container, onStderr, answered, stdin ? this.archives(input) : undefined);
    } catch (err) {
      for (const a of input.archives) a.destroy(); // not sent: their writers stop
      const failure = this.failure(err, 'cannot run the container');
      if (failure instanceof ContainerGoneError) throw failure;
      const message = failure.message;
      if (/no such file or directory|executable file not found/i.test(message))
        throw new UserError('the image has no such interpreter or /bin/sh', undefined, message);
      throw new UserError(message);
    }
  }

  async kill(): Promise<void> {
    await this.container.kill().catch(() => undefined);
  }

  async commit(config: ImageConfig, comment: string): Promise<string> {
    try {
      const { Id } = (await this.container
        .commit({ _query: { container: this.id, comment, pause: false }, _body: config })
        .catch((err: unknown) => {
          throw this.failure(err, 'cannot commit the patch');
        })) as { Id: string };
      // Commit fills an empty Cmd and Entrypoint from the container's; only a config written
      // over the same layers gives such an image back exactly.
      if (isEmpty(config.Cmd) && isEmpty(config.Entrypoint)) return await this.rewriteConfig(Id, config);
      return Id;
    } catch (err) {
      throw explain(err, 'cannot commit the patch');
    }
  }

  /** Writes `config` over the layers of `imageId` and drops `imageId`. */
  private async rewriteConfig(imageId: string, config: ImageConfig): Promise<string> {
    try {
      return await loadOnto(this.docker, imageId, config);
    } finally {
      // The commit's own image only carried the layer; the loaded one holds it now.
      await this.docker
        .getImage(imageId)
        .remove({ noprune: true })
        .catch(() => undefined);
    }
  }

  async addLayer(base: string, layer: LayerFile, config: ImageConfig, comment: string): Promise<string> {
    try {
      // The Engine API gives a path of the container as a tar holding it: its one file is the layer.
      const archive = (await this.container.getArchive({ path: layer.tar })) as NodeJS.ReadableStream;
      const stream = firstFile(archive as AsyncIterable<Buffer>);
      return await loadOnto(this.docker, base, config, { stream, size: layer.size, diffId: layer.diffId, comment });
    } catch (err) {
      throw this.failure(err, 'cannot load the layer');
    }
  }

  async remove(): Promise<void> {
    await this.container.remove({ force: true, v: true }).catch((err: unknown) => {
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw explain(err, 'cannot remove the work container');
    });
  }
}
