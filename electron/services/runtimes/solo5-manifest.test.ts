import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MFT1_NOTE_TYPE,
  MFT_DEV_BLOCK_BASIC,
  MFT_DEV_NET_BASIC,
  MFT_RESERVED_FIRST,
  Solo5ManifestError,
  readSolo5Manifest,
} from './solo5-manifest';

interface Entry {
  name: string;
  type: number;
}

/**
 * A note laid out as Solo5's MFT1_NOTE_DECLARE_BEGIN does (include/mft_abi.h): Elf64_Nhdr,
 * "Solo5\0" padded to 8, 4 bytes of padding to the 8-aligned struct mft, then the entries
 * (104 bytes each on LP64: name[68], type u32, union u of 16 bytes at 72, union b at 88,
 * bool attached at 96, padded to 104).
 */
function mft1Note(entries: Entry[], opts: { version?: number; count?: number } = {}): Buffer {
  const mft = Buffer.alloc(8 + entries.length * 104);
  mft.writeUInt32LE(opts.version ?? 1, 0);
  mft.writeUInt32LE(opts.count ?? entries.length, 4);
  entries.forEach((e, i) => {
    mft.write(e.name, 8 + i * 104, 'latin1');
    mft.writeUInt32LE(e.type, 8 + i * 104 + 68);
  });
  const header = Buffer.alloc(24);
  header.writeUInt32LE(6, 0); // n_namesz = sizeof("Solo5")
  header.writeUInt32LE(4 + mft.length, 4); // n_descsz includes the alignment padding
  header.writeUInt32LE(MFT1_NOTE_TYPE, 8);
  header.write('Solo5\0', 12, 'latin1');
  return Buffer.concat([header, mft]);
}

/** A GNU build-id note, so the Solo5 note is not the only one in the segment. */
function gnuNote(): Buffer {
  const n = Buffer.alloc(12 + 4 + 8);
  n.writeUInt32LE(4, 0);
  n.writeUInt32LE(8, 4);
  n.writeUInt32LE(3, 8);
  n.write('GNU\0', 12, 'latin1');
  return n;
}

/** A minimal ELF64 LE executable whose notes sit in a PT_NOTE segment or an SHT_NOTE section. */
function elfWithNotes(notes: Buffer, where: 'segment' | 'section' = 'segment'): Buffer {
  const ehdr = Buffer.alloc(64);
  ehdr.write('\x7fELF', 0, 'latin1');
  ehdr[4] = 2; // ELFCLASS64
  ehdr[5] = 1; // little-endian
  ehdr[6] = 1;
  ehdr.writeUInt16LE(2, 16); // ET_EXEC
  ehdr.writeUInt16LE(62, 18); // x86_64
  const table = Buffer.alloc(where === 'segment' ? 56 : 64);
  const tableOff = 64;
  const notesOff = tableOff + table.length;
  if (where === 'segment') {
    ehdr.writeBigUInt64LE(BigInt(tableOff), 32);
    ehdr.writeUInt16LE(56, 54);
    ehdr.writeUInt16LE(1, 56);
    table.writeUInt32LE(4, 0); // PT_NOTE
    table.writeBigUInt64LE(BigInt(notesOff), 8);
    table.writeBigUInt64LE(BigInt(notes.length), 32);
  } else {
    ehdr.writeBigUInt64LE(BigInt(tableOff), 40);
    ehdr.writeUInt16LE(64, 58);
    ehdr.writeUInt16LE(1, 60);
    table.writeUInt32LE(7, 4); // SHT_NOTE
    table.writeBigUInt64LE(BigInt(notesOff), 24);
    table.writeBigUInt64LE(BigInt(notes.length), 32);
  }
  return Buffer.concat([ehdr, table, notes]);
}

const reserved: Entry = { name: '', type: MFT_RESERVED_FIRST };

describe('readSolo5Manifest', () => {
  it('reads network and block devices in order, skipping the reserved first entry', () => {
    const elf = elfWithNotes(
      Buffer.concat([
        gnuNote(),
        mft1Note([
          reserved,
          { name: 'service', type: MFT_DEV_NET_BASIC },
          { name: 'storage', type: MFT_DEV_BLOCK_BASIC },
        ]),
      ]),
    );
    expect(readSolo5Manifest(elf)).toEqual({
      version: 1,
      devices: [
        { name: 'service', type: 'NET_BASIC' },
        { name: 'storage', type: 'BLOCK_BASIC' },
      ],
    });
  });

  it('finds the note through section headers too, and accepts an image with no devices', () => {
    expect(readSolo5Manifest(elfWithNotes(mft1Note([reserved]), 'section'))).toEqual({
      version: 1,
      devices: [],
    });
  });

  const rejects: [string, Buffer, RegExp][] = [
    ['not ELF', Buffer.from('#!/bin/sh\n'.repeat(10)), /not an ELF/],
    ['no note', elfWithNotes(gnuNote()), /no Solo5 manifest/],
    ['wrong version', elfWithNotes(mft1Note([reserved], { version: 2 })), /version 2/],
    ['huge count', elfWithNotes(mft1Note([reserved], { count: 0xffffffff })), /at most 64/],
    ['count/size mismatch', elfWithNotes(mft1Note([reserved], { count: 2 })), /does not match/],
    [
      'unknown type',
      elfWithNotes(mft1Note([reserved, { name: 'x', type: 9 }])),
      /unknown device type/,
    ],
    [
      'bad name',
      elfWithNotes(mft1Note([reserved, { name: 'a b', type: MFT_DEV_NET_BASIC }])),
      /invalid name/,
    ],
    [
      'unterminated name',
      elfWithNotes(mft1Note([reserved, { name: 'a'.repeat(68), type: MFT_DEV_NET_BASIC }])),
      /terminator/,
    ],
    [
      'duplicate',
      elfWithNotes(
        mft1Note([
          reserved,
          { name: 'a', type: MFT_DEV_NET_BASIC },
          { name: 'a', type: MFT_DEV_BLOCK_BASIC },
        ]),
      ),
      /twice/,
    ],
  ];
  for (const [what, elf, message] of rejects)
    it(`refuses ${what} with a clear error`, () => {
      expect(() => readSolo5Manifest(elf)).toThrow(Solo5ManifestError);
      expect(() => readSolo5Manifest(elf)).toThrow(message);
    });

  it('refuses truncated images and offsets past the end', () => {
    const good = elfWithNotes(mft1Note([reserved, { name: 'net', type: MFT_DEV_NET_BASIC }]));
    for (let cut = 0; cut < good.length; cut += 7)
      expect(() => readSolo5Manifest(good.subarray(0, cut))).toThrow(Solo5ManifestError);
    const far = Buffer.from(good);
    far.writeBigUInt64LE(0xffffffffffffff00n, 64 + 8); // p_offset
    expect(() => readSolo5Manifest(far)).toThrow(/out of range|outside the file/);
  });

  const onlyManifestErrors = (elf: Buffer) => {
    try {
      readSolo5Manifest(elf);
    } catch (e) {
      if (!(e instanceof Solo5ManifestError)) throw e;
    }
  };

  it('never crashes on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => onlyManifestErrors(Buffer.from(b))),
      {
        numRuns: 500,
      },
    );
  });

  it('never crashes on a valid image with corrupted bytes', () => {
    const good = elfWithNotes(
      Buffer.concat([
        gnuNote(),
        mft1Note([reserved, { name: 'service', type: MFT_DEV_NET_BASIC }]),
      ]),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat({ max: good.length }),
        (edits, length) => {
          const elf = Buffer.from(good);
          for (const [at, value] of edits) elf[at] = value;
          onlyManifestErrors(elf);
          onlyManifestErrors(elf.subarray(0, length));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
