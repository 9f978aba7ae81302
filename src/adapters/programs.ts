import { execa } from 'execa';
import type { Programs } from '../core/ports/programs.js';

/** Host programs through execa: an argument vector, never a shell. */
export const execaPrograms: Programs = {
  async run(program, args, options = {}) {
    const child = execa(program, args, { all: true, reject: false, cwd: options.cwd, ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }) });
    if (options.onLine) {
      let pending = '';
      child.all?.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString('utf8')).split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) if (l) options.onLine!(l);
      });
    }
    const result = await child;
    return { exitCode: result.exitCode, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), all: String(result.all ?? '') };
  },
  async attach(program, args) {
    const result = await execa(program, args, { stdin: 'inherit', stdout: process.stderr, stderr: 'inherit', reject: false });
    return result.failed && result.exitCode === undefined ? undefined : result.exitCode;
  },
};
