/** A mistake or a condition the user can act on: printed as one line (plus a hint), exit 1. */
export class UserError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, readonly hint?: string, readonly detail?: string) {
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
