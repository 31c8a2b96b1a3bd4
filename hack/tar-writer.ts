/**
 * Writes POSIX tar archives (ustar, with a pax extended header for a name
 * or link target that does not fit) straight to a file, hashing what it
 * writes: the image builder's layers and its outer archive. Entries carry
 * the owner, mode and mtime the caller gives (an image layer wants root and
 * a fixed mtime, so that two builds of the same files are the same bytes).
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export interface TarEntryHeader {
  /** Archive path, no leading slash; a directory's ends without one too. */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  linkname?: string;
}

const BLOCK = 512;
const TYPEFLAG = { file: '0', dir: '5', symlink: '2' } as const;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(h: { name: string; prefix?: string; typeflag: string; mode: number; uid: number; gid: number; size: number; mtime: number; linkname?: string }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  b.write(octal(h.mode & 0o7777, 8), 100, 'ascii');
  b.write(octal(h.uid, 8), 108, 'ascii');
  b.write(octal(h.gid, 8), 116, 'ascii');
  b.write(octal(h.size, 12), 124, 'ascii');
  b.write(octal(h.mtime, 12), 136, 'ascii');
  b.write('        ', 148, 'ascii'); // checksum counted as blanks
  b.write(h.typeflag, 156, 'ascii');
  if (h.linkname) b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 'ascii');
  b.write('00', 263, 'ascii');
  b.write('root', 265, 'ascii');
  b.write('root', 297, 'ascii');
  if (h.prefix) b.write(h.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(octal(sum, 7) + ' ', 148, 'ascii');
  return b;
}

/** A pax record: "<len> key=value\n", where len counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Splits a path over ustar's prefix (155) and name (100) fields, or says it can't. */
function ustarSplit(name: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest) return { prefix, name: rest };
  }
  return undefined;
}

export class TarWriter {
  readonly #fd: number;
  readonly #hash: Hash = createHash('sha256');
  #size = 0;
  #closed = false;

  constructor(file: string) {
    this.#fd = openSync(file, 'w');
  }

  /** Bytes written so far. */
  get size(): number {
    return this.#size;
  }

  /** Adds an entry whose content (files only) is `data`. */
  add(h: TarEntryHeader, data?: Buffer): void {
    this.#header(h, data?.length ?? 0);
    if (data?.length) {
      this.#write(data);
      this.#pad(data.length);
    }
  }

  /** Adds a regular file whose content is read from `source` in chunks. */
  addFile(h: TarEntryHeader, source: string, size: number): void {
    this.#header(h, size);
    const fd = openSync(source, 'r');
    try {
      const chunk = Buffer.alloc(1 << 20);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - done), done);
        if (n === 0) throw new Error(`${source}: shorter than ${size} bytes`);
        this.#write(chunk.subarray(0, n));
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    this.#pad(size);
  }

  /** Writes the two zero blocks that end an archive and closes the file; returns the archive's sha256 (hex) and size. */
  close(): { sha256: string; size: number } {
    if (this.#closed) throw new Error('tar: closed twice');
    this.#write(Buffer.alloc(2 * BLOCK));
    closeSync(this.#fd);
    this.#closed = true;
    return { sha256: this.#hash.digest('hex'), size: this.#size };
  }

  #header(h: TarEntryHeader, size: number): void {
    const typeflag = TYPEFLAG[h.type];
    const name = h.type === 'dir' ? `${h.name.replace(/\/+$/, '')}/` : h.name;
    const fields = { typeflag, mode: h.mode, uid: h.uid ?? 0, gid: h.gid ?? 0, size: h.type === 'file' ? size : 0, mtime: h.mtime ?? 0, linkname: h.linkname };
    const split = ustarSplit(name);
    const longLink = h.linkname !== undefined && Buffer.byteLength(h.linkname) > 100;
    if (!split || longLink) {
      let pax = '';
      if (!split) pax += paxRecord('path', name);
      if (longLink) pax += paxRecord('linkpath', h.linkname!);
      const body = Buffer.from(pax, 'utf8');
      this.#write(header({ name: `PaxHeader/${name}`.slice(0, 99), typeflag: 'x', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: fields.mtime }));
      this.#write(body);
      this.#pad(body.length);
    }
    const short = split ?? { prefix: '', name: name.slice(0, 100) };
    this.#write(header({ ...fields, name: short.name, prefix: short.prefix, linkname: longLink ? h.linkname!.slice(0, 100) : h.linkname }));
  }

  #pad(n: number): void {
    const rest = n % BLOCK;
    if (rest) this.#write(Buffer.alloc(BLOCK - rest));
  }

  #write(b: Buffer): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.#fd, b, off, b.length - off);
    this.#hash.update(b);
    this.#size += b.length;
  }
}
