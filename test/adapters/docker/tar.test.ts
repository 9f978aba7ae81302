import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { firstBytes, tarOf, tarStream } from '../../../src/adapters/docker/tar.js';

async function* chunks(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}
const all = async (stream: AsyncIterable<Buffer>) => {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
};

describe('tar streams', () => {
  const content = randomBytes(70_000);
  const long = `${'deep/'.repeat(30)}layer.tar`; // a pax header before it

  it('gives the first bytes of a stream as they come, whatever the chunks, and reads no further', async () => {
    const stream = Buffer.concat([content, Buffer.from('not read')]);
    for (const size of [1, 100, 511, 65_536, 100_000]) {
      let read = 0;
      const counted = (async function* () {
        for await (const chunk of chunks(stream, size)) {
          read += chunk.length;
          yield chunk;
        }
      })();
      expect((await all(firstBytes(counted, content.length))).equals(content), `chunks of ${size}`).toBe(true);
      expect(read, `chunks of ${size}`).toBeLessThan(content.length + size);
    }
    // A stream that ends first gives what it had: the tar it goes into says so (below).
    expect((await all(firstBytes(chunks(content.subarray(0, 10), 4), 100))).length).toBe(10);
  });

  it('writes a member that streams in as the same bytes as one in memory, and refuses one of another size', async () => {
    const small = { name: 'manifest.json', content: Buffer.from('[]') };
    const streamed = await all(tarStream([small, { name: long, size: content.length, stream: chunks(content, 4096) }]));
    expect(streamed.equals(tarOf([small, { name: long, content }]))).toBe(true);
    await expect(all(tarStream([{ name: 'x', size: 10, stream: chunks(content, 4096) }]))).rejects.toThrow(
      /70000 bytes came, not 10/,
    );
  });
});
