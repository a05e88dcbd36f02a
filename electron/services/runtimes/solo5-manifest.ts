// Reads the Solo5 application manifest ("MFT1" ELF note) from a unikernel image, to learn which
// network and block devices it needs. Layout from Solo5's include/mft_abi.h and the note loader
// in tenders/common/elf.c (elf_load_note):
//
//   note header: n_namesz u32, n_descsz u32, n_type u32, name "Solo5\0" padded to 8  (20 bytes)
//   the descriptor's struct mft starts at the next 8-byte boundary (MFT1_NOTE_ALIGN = 8), i.e.
//   24 bytes into the note; n_descsz counts that padding.
//   struct mft       { u32 version; u32 entries; struct mft_entry e[entries]; }        (8 + ...)
//   struct mft_entry { char name[68]; u32 type; union u (16); union b (8); bool attached; }
//                    = 104 bytes on LP64 (x86_64 and aarch64, the only hvt targets).
//
// The image is untrusted (an owner's file, or a download): every offset and count is checked
// against the buffer before use, counts are capped by MFT_MAX_ENTRIES, and nothing is allocated
// from a size read out of the file.
import { LaunchSpecError } from './launch-spec';

export const MFT_VERSION = 1;
export const MFT_MAX_ENTRIES = 64;
export const MFT_NAME_SIZE = 68;
export const MFT1_NOTE_NAME = 'Solo5';
export const MFT1_NOTE_TYPE = 0x3154464d; // "MFT1"
export const MFT_DEV_BLOCK_BASIC = 1;
export const MFT_DEV_NET_BASIC = 2;
export const MFT_RESERVED_FIRST = 1 << 30;
export const MFT_ENTRY_SIZE = 104;
export const MFT_HEADER_SIZE = 8;
const NOTE_HEADER_SIZE = 20; // Elf64_Nhdr (12) + "Solo5\0" padded to 4 (8)
const NOTE_DESC_OFFSET = 24; // NOTE_HEADER_SIZE aligned up to MFT1_NOTE_ALIGN (8)
const NOTE_PAD = NOTE_DESC_OFFSET - NOTE_HEADER_SIZE;
const PT_NOTE = 4;
const SHT_NOTE = 7;

export type Solo5DeviceType = 'NET_BASIC' | 'BLOCK_BASIC';
export interface Solo5Device {
  name: string;
  type: Solo5DeviceType;
}
export interface Solo5Manifest {
  version: number;
  /** The devices the image needs, in manifest order (the reserved first entry left out). */
  devices: Solo5Device[];
}

/**
 * The app volume that backs a Solo5 block device: its name ([A-Za-z0-9]{1,67}) as a volume name
 * (shared/ids.ts). The form suggests these volumes and the tender launcher wires them.
 */
export function volumeNameFor(solo5Name: string): string {
  const lower = solo5Name.toLowerCase().replace(/[^a-z0-9]/g, '');
  const name = /^[a-z]/.test(lower) ? lower : `disk${lower}`;
  return name.slice(0, 32);
}

/** An image whose manifest cannot be read; the message says what is wrong with it. */
export class Solo5ManifestError extends LaunchSpecError {
  constructor(reason: string) {
    super(`This image's Solo5 manifest could not be read: ${reason}.`);
    this.name = 'Solo5ManifestError';
  }
}

function fail(reason: string): never {
  throw new Solo5ManifestError(reason);
}

/** A u64 offset or size as a safe number, or a clear error (never a silent wrap). */
function u64(buf: Buffer, at: number, what: string): number {
  const value = buf.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} is out of range`);
  return Number(value);
}

interface Region {
  offset: number;
  size: number;
}

/** Bounds-checked [offset, offset+size) inside the buffer. */
function region(buf: Buffer, offset: number, size: number, what: string): Region {
  if (offset > buf.length || size > buf.length - offset)
    fail(`${what} lies outside the file (offset ${offset}, size ${size}, file ${buf.length})`);
  return { offset, size };
}

/** PT_NOTE segments, or SHT_NOTE sections when the image has no program headers. */
function noteRegions(elf: Buffer): Region[] {
  if (elf.length < 64) fail('the file is too short to be an ELF image');
  if (elf.readUInt32BE(0) !== 0x7f454c46) fail('the file is not an ELF image');
  if (elf[4] !== 2) fail('the image is not a 64-bit ELF (Solo5 hvt images are)');
  if (elf[5] !== 1) fail('the image is not little-endian (Solo5 hvt images are)');
  const regions: Region[] = [];
  const phoff = u64(elf, 32, 'the program header offset');
  const phentsize = elf.readUInt16LE(54);
  const phnum = elf.readUInt16LE(56);
  if (phnum > 0) {
    if (phentsize < 56) fail('program headers are too small');
    region(elf, phoff, phentsize * phnum, 'the program header table');
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      if (elf.readUInt32LE(at) !== PT_NOTE) continue;
      const offset = u64(elf, at + 8, 'a note segment offset');
      const size = u64(elf, at + 32, 'a note segment size');
      regions.push(region(elf, offset, size, 'a note segment'));
    }
  }
  if (regions.length === 0) {
    const shoff = u64(elf, 40, 'the section header offset');
    const shentsize = elf.readUInt16LE(58);
    const shnum = elf.readUInt16LE(60);
    if (shnum > 0) {
      if (shentsize < 64) fail('section headers are too small');
      region(elf, shoff, shentsize * shnum, 'the section header table');
      for (let i = 0; i < shnum; i++) {
        const at = shoff + i * shentsize;
        if (elf.readUInt32LE(at + 4) !== SHT_NOTE) continue;
        const offset = u64(elf, at + 24, 'a note section offset');
        const size = u64(elf, at + 32, 'a note section size');
        regions.push(region(elf, offset, size, 'a note section'));
      }
    }
  }
  return regions;
}

/** The Solo5 MFT1 note's struct mft, as a view into the buffer, or undefined if none. */
function findManifestBytes(elf: Buffer): Buffer | undefined {
  for (const r of noteRegions(elf)) {
    let at = r.offset;
    const end = r.offset + r.size;
    // Walk every note in the segment (4-byte aligned entries, as ELF64 toolchains emit).
    while (end - at >= 12) {
      const namesz = elf.readUInt32LE(at);
      const descsz = elf.readUInt32LE(at + 4);
      const type = elf.readUInt32LE(at + 8);
      const nameEnd = at + 12 + Math.ceil(namesz / 4) * 4;
      if (nameEnd > end) fail('a note name runs past its segment');
      const descEnd = nameEnd + Math.ceil(descsz / 4) * 4;
      if (descsz > end - nameEnd) fail('a note runs past its segment');
      const isSolo5 =
        namesz === MFT1_NOTE_NAME.length + 1 &&
        elf.toString('latin1', at + 12, at + 12 + namesz) === `${MFT1_NOTE_NAME}\0`;
      if (isSolo5 && type === MFT1_NOTE_TYPE) {
        if (descsz < NOTE_PAD + MFT_HEADER_SIZE) fail('the manifest note is too small');
        const maxDesc = NOTE_PAD + MFT_HEADER_SIZE + MFT_MAX_ENTRIES * MFT_ENTRY_SIZE;
        if (descsz > maxDesc) fail(`the manifest note is too large (${descsz} bytes)`);
        const start = at + NOTE_DESC_OFFSET;
        return elf.subarray(start, start + descsz - NOTE_PAD);
      }
      at = Math.min(descEnd, end);
    }
  }
  return undefined;
}

function entryName(bytes: Buffer, index: number): string {
  const raw = bytes.subarray(0, MFT_NAME_SIZE);
  const nul = raw.indexOf(0);
  if (nul < 0) fail(`entry ${index} has a name without a terminator`);
  const name = raw.toString('latin1', 0, nul);
  // Names become solo5-hvt options (--net:NAME=...): Solo5 itself allows only alphanumerics.
  if (!/^[A-Za-z0-9]{1,67}$/.test(name))
    fail(`entry ${index} has an invalid name ${JSON.stringify(name)}`);
  return name;
}

/** Parses the MFT1 note of a Solo5 ELF image. Throws Solo5ManifestError on any damage. */
export function readSolo5Manifest(elf: Buffer): Solo5Manifest {
  const mft = findManifestBytes(elf);
  if (!mft) fail('the image has no Solo5 manifest note (is it a Solo5 hvt image?)');
  const version = mft.readUInt32LE(0);
  if (version !== MFT_VERSION)
    fail(`manifest version ${version} is not supported (Hearth reads version ${MFT_VERSION})`);
  const count = mft.readUInt32LE(4);
  if (count > MFT_MAX_ENTRIES)
    fail(`the manifest lists ${count} devices; Solo5 allows at most ${MFT_MAX_ENTRIES}`);
  if (mft.length !== MFT_HEADER_SIZE + count * MFT_ENTRY_SIZE)
    fail(
      `the manifest size (${mft.length} bytes) does not match its ${count} entries (${MFT_HEADER_SIZE + count * MFT_ENTRY_SIZE} bytes)`,
    );
  const devices: Solo5Device[] = [];
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    const entry = mft.subarray(
      MFT_HEADER_SIZE + i * MFT_ENTRY_SIZE,
      MFT_HEADER_SIZE + (i + 1) * MFT_ENTRY_SIZE,
    );
    const type = entry.readUInt32LE(MFT_NAME_SIZE);
    if (type === MFT_RESERVED_FIRST) {
      // Solo5 puts a reserved entry first; it is no device.
      if (i !== 0) fail(`entry ${i} is a reserved entry out of place`);
      continue;
    }
    if (type !== MFT_DEV_NET_BASIC && type !== MFT_DEV_BLOCK_BASIC)
      fail(`entry ${i} has an unknown device type ${type}`);
    const name = entryName(entry, i);
    if (names.has(name)) fail(`device name ${name} appears twice`);
    names.add(name);
    devices.push({ name, type: type === MFT_DEV_NET_BASIC ? 'NET_BASIC' : 'BLOCK_BASIC' });
  }
  return { version, devices };
}
