import type { Programs } from '../ports/programs.js';

let found: Promise<string | undefined> | undefined;

/** This machine's python3 itself, as its sys.executable (a pyenv or asdf shim takes 0.3 s to start it); undefined when there is none. */
export function hostPython(programs: Programs): Promise<string | undefined> {
  return (found ??= programs
    .run('python3', ['-c', 'import sys; print(sys.executable)'])
    .then((r) => (r.exitCode === 0 && r.stdout.trim()) || undefined));
}
