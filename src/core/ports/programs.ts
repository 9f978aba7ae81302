/** What a host program said, once it ended. */
export interface ProgramResult {
  /** Undefined when the program could not be started (not on PATH). */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they came. */
  all: string;
}

/** The other programs nfhot runs on the host: nextflow, singularity or apptainer, Docker's credential helpers, the command `watch` runs. */
export interface Programs {
  run(program: string, args: string[], options?: { cwd?: string; input?: string; onLine?: (line: string) => void }): Promise<ProgramResult>;
  /** Runs a program on the terminal: stdin and stderr its own, its stdout sent to stderr (nfhot's stdout carries results). Resolves to its exit code, undefined when it could not start. */
  attach(program: string, args: string[]): Promise<number | undefined>;
}
