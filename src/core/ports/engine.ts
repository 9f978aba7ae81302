import type { Readable } from 'node:stream';

/** The image config object as the daemon holds it (Cmd, Entrypoint, User, WorkingDir, Env, ...). */
export type ImageConfig = Record<string, unknown> & { Labels?: Record<string, string> | null };

export interface ImageInfo {
  id: string;
  repoTags: string[];
  /** `repository@sha256:…` for each registry it came from or was pushed to. */
  repoDigests: string[];
  config: ImageConfig;
  labels: Record<string, string>;
  layers: number;
  size: number;
}

export interface ImageSummary {
  id: string;
  repoTags: string[];
  /** `repository@sha256:…` for each registry it was pushed to (or pulled from). */
  repoDigests: string[];
  labels: Record<string, string>;
}

export interface PushResult {
  /** The manifest digest the registry stored. */
  digest: string;
  /** Each layer and how it went: "Pushed", "Layer already exists", "Mounted from …". */
  layers: { id: string; status: string }[];
}

export interface ContainerSummary {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface RunOptions {
  name: string;
  labels: Record<string, string>;
  user?: string;
  entrypoint?: boolean;
  timeoutMs?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** What a work container's command gets: tar archives, one after another, and files (path relative to / → content). */
export interface WorkInput {
  archives: Readable[];
  files: Record<string, Buffer>;
}

/**
 * A container made from an image to install into: created with its command, given its files, run
 * once as root; its changes become one layer (committed), or it answers with a layer of its own.
 */
export interface WorkContainer {
  readonly id: string;
  /**
   * Runs the container's command to its end. `input` goes to its stdin as tar archives, one after
   * another (an engine that cannot stream them copies them to / before it starts; stdin is empty
   * then). `onStderr` gets what it writes to stderr as it comes. `answered` (given each stdout
   * chunk, and all of stdout so far) may say the command has given its whole answer: the run ends
   * there, as if with exit code 0, the container still exiting.
   */
  run(
    input: WorkInput,
    onStderr?: (chunk: string) => void,
    answered?: (chunk: string, stdout: () => string) => boolean,
  ): Promise<RunResult>;
  /** Commits the container's changes on top of its image with exactly `config`. */
  commit(config: ImageConfig, comment: string): Promise<string>;
  /**
   * A new image: `base`'s layers and one more, the tar the command wrote (`layer`), streamed from
   * the container to the engine as it comes, with exactly `config` (only where the engine addsLayers).
   */
  addLayer(base: string, layer: LayerFile, config: ImageConfig, comment: string): Promise<string>;
  /** Kills its process (used to interrupt). */
  kill(): Promise<void>;
  remove(): Promise<void>;
}

/** A layer a work container's command wrote: a tar at `tar` in the container, of `size` bytes, whose digest is `diffId`, with `files` files. */
export interface LayerFile {
  tar: string;
  size: number;
  diffId: string;
  files: number;
}

/** One change a layer makes, by absolute path: a file or directory with its metadata, or a removal. */
export type LayerEntry =
  | { kind: 'file'; path: string; content: Buffer; mode: number; uid: number; gid: number; mtime: number }
  | { kind: 'dir'; path: string; mode: number; uid: number; gid: number; mtime: number }
  | { kind: 'whiteout'; path: string };

export const ENGINES = ['docker', 'podman'] as const;
export type EngineName = (typeof ENGINES)[number];

/** Docker as nfhot needs it. The core sees only this; the adapter speaks the Engine API. */
export interface Engine {
  /** Where the engine answers (DOCKER_HOST, a socket): the includes nfhot keeps are rewritten by commands that talk to the same one. */
  readonly address: string;
  /** Which engine answers there. */
  readonly kind: EngineName;
  /** The host program that talks to the same engine (`docker` honours DOCKER_HOST, `podman` CONTAINER_HOST): for what needs a terminal. */
  readonly cli: string;
  /** Throws a UserError saying how to start the daemon when it does not answer. */
  ping(): Promise<void>;
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  /** Every image, or only those with one of `references` (exact names). */
  listImages(references?: string[]): Promise<ImageSummary[]>;
  tag(imageId: string, ref: string): Promise<void>;
  /** Removes one tag; the image goes with its last tag, unless a container still uses it (then the tag stays). */
  untag(ref: string): Promise<void>;
  /** Pushes a tagged image with the credentials the user has for its registry; `onLayer` hears of each layer as it is done. */
  push(ref: string, onLayer?: (layer: string, status: string) => void): Promise<PushResult>;
  /**
   * Runs a throwaway container named `name` from `image` with `argv` as its whole command, or,
   * with `entrypoint`, as the command given to the image's own entrypoint (as a task is run);
   * `user` unset runs as the image's user. Killed after `timeoutMs`; always removed.
   */
  run(image: string, argv: string[], options: RunOptions): Promise<RunResult>;
  /**
   * A container from `image` (whose config is `config`) that will run `argv` as root; network
   * `host`: on the host's (to reach an index on its loopback), `none`: none; else the engine's
   * default. `memory`: a directory of the image to mount in memory over it (an engine that copies
   * the job's files in before the container starts keeps it as it is).
   */
  createWorkContainer(options: {
    name: string;
    image: string;
    config: ImageConfig;
    argv: string[];
    network?: 'host' | 'none';
    memory?: string;
  }): Promise<WorkContainer>;
  /** Whether addLayer works here (Podman's load wants every layer in the archive: it does not). */
  readonly addsLayers: boolean;
  /** A new image: `base`'s layers and one more made of `entries` (parents before children), with exactly `config`; no container runs. */
  addLayer(base: string, entries: LayerEntry[], config: ImageConfig, comment: string): Promise<string>;
  /** Creates (never starts) a named container and returns its ID; undefined when the name is taken. Names are unique per daemon: this is the lock. */
  createMarker(name: string, image: string, labels: Record<string, string>): Promise<string | undefined>;
  listContainers(namePrefix: string): Promise<ContainerSummary[]>;
  removeContainer(nameOrId: string): Promise<void>;
}
