// What a zip archive holds, independent of how it was compressed: its files' paths, modes and
// contents, hashed as one sha256. A zip made by `git archive` is byte-stable only for one git and
// one zlib (another compression level, zlib build or git version gives other bytes for the same
// files), so a source pinned as a zip is pinned by this content hash, not by the bytes. Pure: a
// buffer in, entries and a hash out.

import { createHash } from 'node:crypto';
import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipFile {
  path: string;
  /** git's notation: 100644 (file), 100755 (executable), 120000 (symlink; content = target). */
  mode: '100644' | '100755' | '120000';
  content: Buffer;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const UNIX = 3;

function findEndOfCentralDirectory(zip: Buffer, what: string): number {
  // The record is 22 bytes plus a comment of up to 65535 bytes, at the end of the file.
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (zip.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) return at;
  }
  throw new Error(`${what}: not a zip archive (no end-of-central-directory record)`);
}

function modeOf(madeBy: number, externalAttributes: number): ZipFile['mode'] {
  if (madeBy >> 8 !== UNIX) return '100644';
  const unixMode = externalAttributes >>> 16;
  if ((unixMode & 0o170000) === 0o120000) return '120000';
  return unixMode & 0o111 ? '100755' : '100644';
}

/** The files of a zip (directory entries left out), in archive order. `what` names it in errors. */
export function readZipFiles(zip: Buffer, what: string): ZipFile[] {
  const end = findEndOfCentralDirectory(zip, what);
  const count = zip.readUInt16LE(end + 10);
  const directoryOffset = zip.readUInt32LE(end + 16);
  if (count === 0xffff || directoryOffset === 0xffffffff) throw new Error(`${what}: zip64 archives are not supported`);
  const files: ZipFile[] = [];
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL_ENTRY)
      throw new Error(`${what}: central directory entry ${i} is damaged`);
    const madeBy = zip.readUInt16LE(at + 4);
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const externalAttributes = zip.readUInt32LE(at + 38);
    const localOffset = zip.readUInt32LE(at + 42);
    const path = zip.subarray(at + 46, at + 46 + nameLength).toString(flags & 0x800 ? 'utf8' : 'latin1');
    at += 46 + nameLength + extraLength + commentLength;
    if (path.endsWith('/')) continue;
    if (flags & 0x1) throw new Error(`${what}: ${path} is encrypted`);
    if (localOffset + 30 > zip.length || zip.readUInt32LE(localOffset) !== LOCAL_HEADER)
      throw new Error(`${what}: local header of ${path} is damaged`);
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const stored = zip.subarray(dataStart, dataStart + compressedSize);
    let content: Buffer;
    if (method === 0) content = Buffer.from(stored);
    else if (method === 8) content = inflateRawSync(stored);
    else throw new Error(`${what}: ${path} uses compression method ${method} (only stored and deflated are supported)`);
    if (content.length !== size || crc32(content) !== crc)
      throw new Error(`${what}: ${path} does not match its recorded size and CRC (damaged archive)`);
    files.push({ path, mode: modeOf(madeBy, externalAttributes), content });
  }
  return files;
}

/** The manifest the content hash is taken over: one line `<mode> <sha256> <path>` per file, sorted by path. */
export function contentManifest(files: readonly { path: string; mode: string; content: Buffer }[]): string {
  const lines = files.map((f) => ({
    path: f.path,
    line: `${f.mode} ${createHash('sha256').update(f.content).digest('hex')} ${f.path}\n`,
  }));
  lines.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return lines.map((l) => l.line).join('');
}

export function contentSha256(files: readonly { path: string; mode: string; content: Buffer }[]): string {
  return createHash('sha256').update(contentManifest(files)).digest('hex');
}

/** The files outside `topFolder` (a zip must unpack into that one folder for OSv's netperf app). */
export function filesOutside(files: readonly ZipFile[], topFolder: string): string[] {
  return files.map((f) => f.path).filter((p) => !p.startsWith(topFolder));
}
