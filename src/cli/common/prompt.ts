import { createInterface } from 'node:readline/promises';
import { UsageError } from '../../core/base/errors.js';

/** Asks on the terminal which of several images: by number or by name. */
export async function choose(images: string[]): Promise<string> {
  process.stderr.write(
    `nfhot: ${images.length} images are patched:\n${images.map((image, i) => `  ${i + 1}) ${image}`).join('\n')}\n`,
  );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question('which one? ')).trim();
    const chosen = images[Number(answer) - 1] ?? images.find((i) => i === answer);
    if (!chosen)
      throw new UsageError(
        `no image ${JSON.stringify(answer)}`,
        'answer with its number, or name it: nfhot shell IMAGE',
      );
    return chosen;
  } finally {
    rl.close();
  }
}
