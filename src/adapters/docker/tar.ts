import { Readable } from 'node:stream';

/** One member of a tar archive: a regular file (`content`) or a directory. */
export interface TarEntry {
  name: string;
  content?: Buffer;
  dir?: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime?: number;
}

const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\0`;

function header(name: string, size: number, type: string, e: TarEntry): Buffer {
  const block = Buffer.alloc(512);
  Buffer.from(name).copy(block, 0, 0, 100); // a longer one is in the pax header before
  block.write(octal(e.mode ?? (e.dir ? 0o755 : 0o644), 8), 100);
  block.write(octal(e.uid ?? 0, 8), 108);
  block.write(octal(e.gid ?? 0, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(Math.max(0, Math.floor(e.mtime ?? 0)), 12), 136);
  block.write('        ', 148); // the checksum is computed with this field as spaces
  block.write(type, 156);
  block.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

const padding = (size: number) => Buffer.alloc((512 - (size % 512)) % 512);

/** A pax extended header giving the entry's full path (ustar's name field holds 100 bytes). */
function paxPath(name: string, e: TarEntry): Buffer[] {
  const body = (n: number) => `${n} path=${name}\n`;
  let length = Buffer.byteLength(body(0));
  while (Buffer.byteLength(body(length)) !== length) length = Buffer.byteLength(body(length));
  const data = Buffer.from(body(length));
  return [header('PaxHeader', data.length, 'x', e), data, padding(data.length)];
}

/** One in-memory member's blocks: its pax header for a long path, its header, its data, padded. */
function member(e: TarEntry): Buffer[] {
  const name = e.dir && !e.name.endsWith('/') ? `${e.name}/` : e.name;
  const data = e.dir ? Buffer.alloc(0) : (e.content ?? Buffer.alloc(0));
  return [
    ...(Buffer.byteLength(name) > 100 ? paxPath(name, e) : []),
    header(name, data.length, e.dir ? '5' : '0', e),
    data,
    padding(data.length),
  ];
}

/** A tar archive (ustar, with pax headers for long paths) of in-memory entries, in the order given. */
export function tarOf(entries: TarEntry[] | Record<string, Buffer | string>): Buffer {
  const list: TarEntry[] = Array.isArray(entries)
    ? entries
    : Object.entries(entries).map(([name, c]) => ({ name, content: Buffer.isBuffer(c) ? c : Buffer.from(c) }));
  return Buffer.concat([...list.flatMap(member), Buffer.alloc(1024)]);
}

/** A member whose content streams in: exactly `size` bytes. */
export interface StreamedEntry {
  name: string;
  size: number;
  stream: AsyncIterable<Buffer>;
}

/** A tar archive as a stream, of in-memory members and members whose content streams in (none held whole). */
export function tarStream(members: (TarEntry | StreamedEntry)[]): Readable {
  return Readable.from(
    (async function* () {
      for (const m of members) {
        if (!('stream' in m)) {
          yield* member(m);
          continue;
        }
        if (Buffer.byteLength(m.name) > 100) yield* paxPath(m.name, m);
        yield header(m.name, m.size, '0', m);
        let sent = 0;
        for await (const chunk of m.stream) {
          sent += chunk.length;
          yield chunk;
        }
        if (sent !== m.size) throw new Error(`${m.name}: ${sent} bytes came, not ${m.size}`);
        yield padding(m.size);
      }
      yield Buffer.alloc(1024);
    })(),
  );
}

/**
 * The content of a tar stream's first regular file, as it comes (pax and GNU long-name headers
 * before it are skipped; what follows it is not read).
 */
export async function* firstFile(tar: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let held: Buffer = Buffer.alloc(0);
  let skip = 0; // bytes of a header's data (and padding) still to pass over
  let left = -1; // bytes of the file still to give; -1 before its header
  for await (const chunk of tar) {
    held = held.length ? Buffer.concat([held, chunk]) : chunk;
    while (held.length) {
      if (left > 0) {
        const part = held.subarray(0, left);
        left -= part.length;
        held = held.subarray(part.length);
        yield part;
        if (left === 0) return;
        continue;
      }
      if (skip > 0) {
        const n = Math.min(skip, held.length);
        skip -= n;
        held = held.subarray(n);
        continue;
      }
      if (held.length < 512) break;
      const size = Number.parseInt(held.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
      const type = String.fromCharCode(held[156]!);
      held = held.subarray(512);
      if (type === '0' || type === '\0') {
        if (size === 0) return;
        left = size;
      } else skip = Math.ceil(size / 512) * 512;
    }
  }
  if (left !== 0) throw new Error('the archive ended before its file did');
}
