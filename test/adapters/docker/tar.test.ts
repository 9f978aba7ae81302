import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { firstFile, tarOf, tarStream } from '../../../src/adapters/docker/tar.js';

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

  it("gives the content of an archive's first file as it comes, whatever the chunks", async () => {
    const archive = tarOf([
      { name: long, content },
      { name: 'after', content: Buffer.from('not read') },
    ]);
    for (const size of [1, 100, 511, 512, 513, 65_536])
      expect((await all(firstFile(chunks(archive, size)))).equals(content), `chunks of ${size}`).toBe(true);
    await expect(all(firstFile(chunks(archive.subarray(0, 2048), 512)))).rejects.toThrow(/ended before its file/);
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
