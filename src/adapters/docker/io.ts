// What the dockerode adapter and its work container share: error wording and stream handling.
import type Docker from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';
import { UserError } from '../../core/base/errors.js';

interface DockerError extends Error {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'EPERM',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'ECONNRESET',
  'EPIPE',
]);

/** Where the Docker API is: DOCKER_HOST, else Docker's own socket. */
export function dockerAddress(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

export function unreachable(cause: string): UserError {
  return new UserError(
    `cannot reach the Docker daemon at ${dockerAddress()} (${cause})`,
    process.env.DOCKER_HOST
      ? 'check DOCKER_HOST, or unset it to use the local socket'
      : 'start it (as root: `dockerd >/var/log/dockerd.log 2>&1 &`, or `systemctl start docker`) and check that you may use /var/run/docker.sock',
  );
}

/** Turns what dockerode throws into one line a user can read. */
export function explain(err: unknown, what: string): Error {
  const e = err as DockerError;
  if (e instanceof UserError) return e;
  if (e?.code && UNREACHABLE.has(e.code)) return unreachable(e.code);
  const message = String(
    e?.json?.message ?? (typeof e?.json === 'string' ? e.json : undefined) ?? e?.message ?? String(err),
  ).trim();
  const full = /no space left on device/i.test(message)
    ? "the disk under Docker's data root is full: free space (see docker system df; docker image prune) and retry"
    : undefined;
  return new UserError(`${what}: ${message}`, full);
}

export function statusOf(err: unknown): number | undefined {
  return (err as DockerError)?.statusCode;
}

export function collect(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

/** Splits Docker's multiplexed stdout/stderr stream; resolves when it ends. `onStdout` gets each chunk, and what came so far. */
export function demux(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onStderr?: (chunk: string) => void,
  onStdout?: (chunk: string, sofar: () => { stdout: string; stderr: string }) => void,
): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const stdout: Buffer[] = [];
  const stderr: string[] = [];
  const sofar = () => ({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: stderr.join('') });
  out.on('data', (c: Buffer) => {
    stdout.push(Buffer.from(c));
    onStdout?.(c.toString('utf8'), sofar);
  });
  err.on('data', (c: Buffer) => {
    const text = c.toString('utf8');
    stderr.push(text);
    onStderr?.(text);
  });
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve) => {
    const finish = () => {
      out.end();
      err.end();
      // The PassThroughs hand on what they hold before they end.
      out.once('end', () => resolve(sofar()));
      out.resume();
    };
    stream.on('end', finish);
    stream.on('close', finish);
    // A broken connection (or stdin written after the command ended): what came is what there is; the exit code says how it went.
    stream.on('error', finish);
  });
}

export const isEmpty = (v: unknown) => v == null || (Array.isArray(v) && v.length === 0);

/**
 * Starts a created container and waits for its end, with its output (attached first, so none is
 * lost). With `answered`, it returns (exit code 0) as soon as that says the output so far (asked
 * with its last chunk) is a whole answer: what a container does after it has answered (exiting,
 * tearing down) is not waited for.
 */
export async function runToEnd(
  docker: Docker,
  container: Docker.Container,
  onStderr?: (chunk: string) => void,
  answered?: (chunk: string, stdout: () => string) => boolean,
  input?: Readable[],
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const stream = (await container.attach({
    stream: true,
    stdout: true,
    stderr: true,
    ...(input ? { stdin: true, hijack: true } : {}),
  })) as NodeJS.ReadWriteStream;
  let answer: (output: { stdout: string; stderr: string }) => void = () => undefined;
  const early = new Promise<{ stdout: string; stderr: string }>((resolve) => (answer = resolve));
  const output = demux(
    docker,
    stream,
    onStderr,
    answered && ((chunk, sofar) => answered(chunk, () => sofar().stdout) && answer(sofar())),
  );
  await container.start();
  // The input goes in as the container starts; its end closes the command's stdin.
  const sent = input && sendAll(input, stream);
  const ended = container
    .wait()
    .then(async (r: { StatusCode: number }) => ({ exitCode: r.StatusCode, ...(await output) }));
  const result = await Promise.race([ended, early.then((o) => ({ exitCode: 0, ...o }))]);
  // A command that fails before it reads all its input stops taking it: only its answer counts then.
  await sent?.catch((err: unknown) => {
    if (result.exitCode === 0) throw err;
  });
  return result;
}

/** Writes each stream into `to` in turn, then ends it; when `to` closes first, the streams not yet sent are destroyed. */
async function sendAll(streams: Readable[], to: NodeJS.ReadWriteStream): Promise<void> {
  let closed = false;
  const close = new Promise<void>((resolve) => {
    const done = () => resolve(void (closed = true));
    to.once('close', done);
    to.once('error', done);
  });
  try {
    for (const s of streams) {
      for await (const chunk of s) {
        if (closed) throw new Error('the container stopped taking its input');
        if (!to.write(chunk as Buffer))
          await Promise.race([new Promise((resolve) => to.once('drain', resolve)), close]);
      }
    }
    to.end();
  } finally {
    for (const s of streams) s.destroy();
  }
}

/** What `promise` gives, or undefined when it has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a progress stream (pull, push) to its end, handing each event to `onEvent`. */
export function follow<E>(docker: Docker, stream: NodeJS.ReadableStream, onEvent?: (event: E) => void): Promise<void> {
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()), onEvent),
  );
}
