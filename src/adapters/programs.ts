import { constants } from 'node:os';
import { execa } from 'execa';
import type { Programs } from '../core/ports/programs.js';

/** Host programs through execa: an argument vector, never a shell. */
export const execaPrograms: Programs = {
  async run(program, args, options = {}) {
    const child = execa(program, args, {
      all: true,
      reject: false,
      cwd: options.cwd,
      ...(options.env ? { env: options.env } : {}),
      ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
    });
    if (options.onLine) {
      let pending = '';
      child.all?.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString('utf8')).split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) if (l) options.onLine!(l);
      });
    }
    const result = await child;
    return {
      exitCode: result.exitCode,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      all: String(result.all ?? ''),
    };
  },
  async attach(program, args, options = {}) {
    const child = execa(program, args, {
      cwd: options.cwd,
      stdin: options.stdin ?? 'inherit',
      stdout: options.stdout === 'stdout' ? 'inherit' : process.stderr,
      stderr: options.stderr === 'stdout' ? process.stdout : 'inherit',
      reject: false,
      // Its own handler decides how to stop (a task's wrapper runs `docker stop`, which takes up to 10 s): never SIGKILL it.
      forceKillAfterDelay: false,
    });
    const terminate = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', terminate, { once: true });
    const result = await child.finally(() => options.signal?.removeEventListener('abort', terminate));
    if (result.exitCode !== undefined) return result.exitCode;
    const signal = result.signal ? constants.signals[result.signal] : undefined;
    return signal === undefined ? undefined : 128 + signal;
  },
};
