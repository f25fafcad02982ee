// Finding the compressed kernel in a bzImage and the PVH entry note in an ELF kernel.

import { describe, expect, it } from 'vitest';
import { hasPvhNote, payloadCandidates } from './vmlinux.ts';

/** A minimal ELF64 little-endian file with one PT_NOTE segment holding the given notes. */
function elfWithNotes(notes: { name: string; type: number; desc: number[] }[]): Buffer {
  const pad4 = (n: number) => Math.ceil(n / 4) * 4;
  const noteBytes = Buffer.concat(
    notes.map((n) => {
      const name = Buffer.from(`${n.name}\0`, 'latin1');
      const b = Buffer.alloc(12 + pad4(name.length) + pad4(n.desc.length));
      b.writeUInt32LE(name.length, 0);
      b.writeUInt32LE(n.desc.length, 4);
      b.writeUInt32LE(n.type, 8);
      name.copy(b, 12);
      Buffer.from(n.desc).copy(b, 12 + pad4(name.length));
      return b;
    }),
  );
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // ELFCLASS64
  header[5] = 1; // little-endian
  header.writeBigUInt64LE(64n, 32); // e_phoff
  header.writeUInt16LE(56, 54); // e_phentsize
  header.writeUInt16LE(1, 56); // e_phnum
  const ph = Buffer.alloc(56);
  ph.writeUInt32LE(4, 0); // PT_NOTE
  ph.writeBigUInt64LE(120n, 8); // p_offset
  ph.writeBigUInt64LE(BigInt(noteBytes.length), 32); // p_filesz
  return Buffer.concat([header, ph, noteBytes]);
}

describe('PVH note', () => {
  it('finds Xen PHYS32_ENTRY (type 18) among other notes', () => {
    const elf = elfWithNotes([
      { name: 'Xen', type: 6, desc: [0x6c, 0x69, 0x6e, 0x75, 0x78, 0] },
      { name: 'GNU', type: 3, desc: [1, 2, 3, 4, 5] },
      { name: 'Xen', type: 18, desc: [0, 0, 0, 1] },
    ]);
    expect(hasPvhNote(elf)).toBe(true);
  });

  it('says no without it, and for files that are not 64-bit ELF', () => {
    expect(
      hasPvhNote(
        elfWithNotes([
          { name: 'Xen', type: 6, desc: [1] },
          { name: 'GNU', type: 18, desc: [1, 2, 3, 4] },
        ]),
      ),
    ).toBe(false);
    expect(hasPvhNote(Buffer.from('MZ this is a bzImage, not an ELF file, padded out to sixty-four bytes....'))).toBe(
      false,
    );
    expect(hasPvhNote(Buffer.alloc(10))).toBe(false);
  });
});

describe('bzImage payload', () => {
  it('lists compressed payloads by position', () => {
    const image = Buffer.concat([
      Buffer.alloc(100),
      Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
      Buffer.alloc(50),
      Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
    ]);
    expect(payloadCandidates(image).map((c) => [c.name, c.offset, c.command.join(' ')])).toEqual([
      ['xz', 100, 'xz -dc'],
      ['gzip', 156, 'gzip -dc'],
    ]);
    expect(payloadCandidates(Buffer.alloc(64))).toEqual([]);
  });
});
