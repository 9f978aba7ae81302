/** What a host program said, once it ended. */
export interface ProgramResult {
  /** Undefined when the program could not be started (not on PATH). */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they came. */
  all: string;
}

/** The other programs nfhot runs on the host: nextflow, singularity or apptainer, Docker's credential helpers. */
export interface Programs {
  run(program: string, args: string[], options?: { cwd?: string; input?: string; onLine?: (line: string) => void }): Promise<ProgramResult>;
}
