/** What a host program said, once it ended. */
export interface ProgramResult {
  /** Undefined when the program could not be started (not on PATH). */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they came. */
  all: string;
}

export interface AttachOptions {
  cwd?: string;
  /** Default: nfhot's stdin. */
  stdin?: 'inherit' | 'ignore';
  /** Where its stdout goes; default: nfhot's stderr. */
  stdout?: 'stdout' | 'stderr';
  /** Where its stderr goes; default: nfhot's stderr. */
  stderr?: 'stdout' | 'stderr';
  /** When aborted, the program is sent SIGTERM (and left to end as it will). */
  signal?: AbortSignal;
}

/** The other programs nfhot runs on the host: nextflow, singularity or apptainer, Docker's credential helpers, the command `watch` runs. */
export interface Programs {
  /** `env`: variables set for it, over nfhot's own. */
  run(
    program: string,
    args: string[],
    options?: { cwd?: string; input?: string; env?: Record<string, string>; onLine?: (line: string) => void },
  ): Promise<ProgramResult>;
  /**
   * Runs a program on the terminal: stderr its own, stdin its own (or none), stdout its own or
   * sent to stderr (where nfhot's stdout carries results). Resolves to its exit code (128 + N when
   * signal N ended it), undefined when it could not start. `signal` sends it SIGTERM.
   */
  attach(program: string, args: string[], options?: AttachOptions): Promise<number | undefined>;
}
