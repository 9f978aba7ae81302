import { redact } from './redact.js';

/** Human progress on stderr: step lines with elapsed time, and pip's own output as it comes. */
export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  step<T>(label: string, work: () => Promise<T>): Promise<T>;
  /** A writer for a child process's output, each line indented under the current step. */
  output(prefix: string): (chunk: string) => void;
}

export function stderrReporter(write: (text: string) => void = (t) => process.stderr.write(t)): Reporter {
  const line = (text: string) => write(`${redact(text)}\n`);
  return {
    info: (message) => line(`nfhot: ${message}`),
    warn: (message) => line(`nfhot: warning: ${message}`),
    async step(label, work) {
      const started = performance.now();
      line(`nfhot: ${label} …`);
      const result = await work();
      line(`nfhot: ${label} done (${((performance.now() - started) / 1000).toFixed(2)} s)`);
      return result;
    },
    output(prefix) {
      let pending = '';
      return (chunk) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) line(`  ${prefix}| ${l}`);
      };
    },
  };
}

export const silentReporter: Reporter = {
  info: () => undefined,
  warn: () => undefined,
  step: (_label, work) => work(),
  output: () => () => undefined,
};
