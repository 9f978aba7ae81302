/** A mistake or a condition the user can act on: printed as one line (plus a hint), exit 1. */
export class UserError extends Error {
  readonly exitCode: number = 1;
  constructor(
    message: string,
    readonly hint?: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Wrong flags or arguments: exit 2, like yargs' own usage errors. */
export class UsageError extends UserError {
  override readonly exitCode = 2;
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'UsageError';
  }
}

/** Another nfhot holds the image's lock. */
export class BusyError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'BusyError';
  }
}

/** A container nfhot made was removed under it (by a `docker container prune` or `system prune`, say). */
export class ContainerGoneError extends UserError {
  constructor(what: string) {
    super(`${what} was removed while nfhot was using it (a docker container prune or system prune?)`);
    this.name = 'ContainerGoneError';
  }
}

/** The run was interrupted (SIGINT/SIGTERM) and cleaned up after itself. */
export class InterruptedError extends UserError {
  override readonly exitCode: number;
  constructor(signal: string) {
    super(`interrupted by ${signal}; nothing was tagged`);
    this.name = 'InterruptedError';
    this.exitCode = signal === 'SIGTERM' ? 143 : 130;
  }
}

/** Throws InterruptedError once the run's signal has fired. */
export function throwIfInterrupted(signal: AbortSignal): void {
  if (signal.aborted) throw new InterruptedError(String(signal.reason ?? 'SIGINT'));
}

/** An image a command could not do, and why (the error's message and hint). */
export interface ImageFailure {
  image: string;
  error: string;
  hint?: string;
  /** The error itself, for the caller to rethrow; not part of the JSON. */
  cause: unknown;
}

/** One image's failure as a result. */
export function imageFailure(image: string, err: unknown): ImageFailure {
  const failure: ImageFailure = {
    image,
    error: err instanceof UserError ? err.message : `internal error: ${(err as Error)?.message ?? String(err)}`,
    ...(err instanceof UserError && err.hint ? { hint: err.hint } : {}),
    cause: err,
  };
  return Object.defineProperty(failure, 'cause', { enumerable: false });
}
