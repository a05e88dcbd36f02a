// What an image file the owner chose is, read from its own bytes: a Solo5 unikernel (its ABI1
// note says which Solo5 target, its MFT1 manifest which devices it needs), a kernel QEMU or Xen
// can boot directly (multiboot, PVH, Linux), or something Hearth cannot run. Sources:
// Solo5's include/solo5/elf_abi.h (ABI1 note, enum abi_target), the Multiboot 0.6.96
// specification (header within the first 8192 bytes, 4-byte aligned), Xen's
// public/elfnote.h (XEN_ELFNOTE_PHYS32_ENTRY = 18, the PVH entry), Linux's
// Documentation/arch/x86/boot.rst ("HdrS" at 0x202) and arm64/booting.rst ("ARM\x64" at 56).
//
// The file is untrusted: every offset is checked against the buffer, the number of notes read
// is capped, and a damaged file is "unknown" with a reason, never an exception.
import type { ImageFacts } from '../../../shared/model';
import { Solo5ManifestError, readSolo5Manifest } from '../runtimes/solo5-manifest';

const ELF_MAGIC = 0x7f454c46;
const PT_NOTE = 4;
const SHT_NOTE = 7;
const EM_386 = 3;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const ABI1_NOTE_TYPE = 0x31494241; // "ABI1"
const MFT1_NOTE_TYPE = 0x3154464d; // "MFT1"
const XEN_ELFNOTE_PHYS32_ENTRY = 18;
const MULTIBOOT_MAGIC = 0x1badb002;
const MULTIBOOT2_MAGIC = 0xe85250d6;
const MULTIBOOT_AOUT_KLUDGE = 1 << 16;
const MAX_NOTES = 256;

const solo5Targets = ['hvt', 'spt', 'virtio', 'muen', 'genode', 'xen'] as const;

interface Note {
  name: string;
  type: number;
  desc: Buffer;
}

/** [offset, size) regions holding notes: PT_NOTE segments, else SHT_NOTE sections. */
function noteRegions(elf: Buffer, is64: boolean): { offset: number; size: number }[] {
  const inside = (offset: number, size: number) =>
    Number.isSafeInteger(offset) && Number.isSafeInteger(size) && offset + size <= elf.length;
  const word = (at: number) => (is64 ? Number(elf.readBigUInt64LE(at)) : elf.readUInt32LE(at));
  const regions: { offset: number; size: number }[] = [];
  const phoff = word(is64 ? 32 : 28);
  const phentsize = elf.readUInt16LE(is64 ? 54 : 42);
  const phnum = elf.readUInt16LE(is64 ? 56 : 44);
  if (phnum > 0 && phentsize >= (is64 ? 56 : 32) && inside(phoff, phentsize * phnum)) {
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      if (elf.readUInt32LE(at) !== PT_NOTE) continue;
      const offset = word(at + (is64 ? 8 : 4));
      const size = word(at + (is64 ? 32 : 16));
      if (inside(offset, size)) regions.push({ offset, size });
    }
  }
  if (regions.length > 0) return regions;
  const shoff = word(is64 ? 40 : 32);
  const shentsize = elf.readUInt16LE(is64 ? 58 : 46);
  const shnum = elf.readUInt16LE(is64 ? 60 : 48);
  if (shnum > 0 && shentsize >= (is64 ? 64 : 40) && inside(shoff, shentsize * shnum)) {
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      if (elf.readUInt32LE(at + 4) !== SHT_NOTE) continue;
      const offset = word(at + (is64 ? 24 : 16));
      const size = word(at + (is64 ? 32 : 20));
      if (inside(offset, size)) regions.push({ offset, size });
    }
  }
  return regions;
}

/** Every well-formed note (4-byte aligned entries); a damaged one ends its region. */
function elfNotes(elf: Buffer, is64: boolean): Note[] {
  const notes: Note[] = [];
  for (const region of noteRegions(elf, is64)) {
    let at = region.offset;
    const end = region.offset + region.size;
    while (end - at >= 12 && notes.length < MAX_NOTES) {
      const namesz = elf.readUInt32LE(at);
      const descsz = elf.readUInt32LE(at + 4);
      const type = elf.readUInt32LE(at + 8);
      const nameEnd = at + 12 + Math.ceil(namesz / 4) * 4;
      if (namesz > end - at - 12 || nameEnd > end || descsz > end - nameEnd) break;
      const name = elf.toString('latin1', at + 12, at + 12 + namesz).replace(/\0+$/, '');
      notes.push({ name, type, desc: elf.subarray(nameEnd, nameEnd + descsz) });
      at = Math.min(nameEnd + Math.ceil(descsz / 4) * 4, end);
    }
  }
  return notes;
}

/** The multiboot (v1) header's flags, if a valid header sits in the first 8 KiB. */
function multibootFlags(image: Buffer): number | null {
  const limit = Math.min(image.length, 8192) - 12;
  for (let at = 0; at <= limit; at += 4) {
    if (image.readUInt32LE(at) !== MULTIBOOT_MAGIC) continue;
    const flags = image.readUInt32LE(at + 4);
    if ((MULTIBOOT_MAGIC + flags + image.readUInt32LE(at + 8)) >>> 0 === 0) return flags;
  }
  return null;
}

function hasMultiboot2(image: Buffer): boolean {
  const limit = Math.min(image.length, 32768) - 16;
  for (let at = 0; at <= limit; at += 8)
    if (image.readUInt32LE(at) === MULTIBOOT2_MAGIC) return true;
  return false;
}

const unknown = (reason: string): ImageFacts => ({ kind: 'unknown', reason });

function inspectElf(elf: Buffer): ImageFacts {
  if (elf.length < 52) return unknown('The file is cut short: it ends inside its own header.');
  const is64 = elf[4] === 2;
  if (elf[4] !== 1 && elf[4] !== 2) return unknown('The file is a damaged program file (ELF).');
  if (elf[5] !== 1)
    return unknown('The file is built for a big-endian processor, which no Hearth device has.');
  if (is64 && elf.length < 64)
    return unknown('The file is cut short: it ends inside its own header.');
  const machine = elf.readUInt16LE(18);
  const arch =
    machine === EM_X86_64
      ? 'x86_64'
      : machine === EM_AARCH64
        ? 'aarch64'
        : machine === EM_386
          ? 'x86'
          : null;
  if (arch === null)
    return unknown(
      'The file is built for a kind of processor Hearth does not run apps on (only PCs and ARM boards).',
    );

  let notes: Note[];
  try {
    notes = elfNotes(elf, is64);
  } catch {
    return unknown('The file is a damaged program file (ELF): its tables point past its end.');
  }
  const solo5 = notes.filter((n) => n.name === 'Solo5');
  const abiNote = solo5.find((n) => n.type === ABI1_NOTE_TYPE && n.desc.length >= 8);
  const hasManifest = solo5.some((n) => n.type === MFT1_NOTE_TYPE);
  if (abiNote || hasManifest) {
    if (arch === 'x86')
      return unknown('The file claims to be a Solo5 unikernel but is a 32-bit program.');
    let networks: string[] = [];
    let blocks: string[] = [];
    if (hasManifest) {
      try {
        const manifest = readSolo5Manifest(elf);
        networks = manifest.devices.filter((d) => d.type === 'NET_BASIC').map((d) => d.name);
        blocks = manifest.devices.filter((d) => d.type === 'BLOCK_BASIC').map((d) => d.name);
      } catch (error) {
        if (error instanceof Solo5ManifestError) return unknown(error.message);
        throw error;
      }
    }
    const target = abiNote ? abiNote.desc.readUInt32LE(0) : 0;
    return {
      kind: 'solo5',
      abi: solo5Targets[target - 1] ?? 'unknown',
      arch,
      networks,
      blocks,
    };
  }

  if (notes.some((n) => n.name === 'Xen' && n.type === XEN_ELFNOTE_PHYS32_ENTRY))
    return { kind: 'kernel', format: 'pvh', arch: arch === 'aarch64' ? 'aarch64' : arch };
  if (arch === 'aarch64') {
    // QEMU's virt board loads an ARM ELF at its addresses and jumps to its entry.
    const type = elf.readUInt16LE(16);
    if (type === 2) return { kind: 'kernel', format: 'elf', arch };
    return unknown('The file is an ARM program, not a kernel a device can start.');
  }
  const flags = multibootFlags(elf);
  if (flags !== null) {
    // QEMU loads a 64-bit ELF only through the header's own load addresses (the "a.out kludge").
    if (arch === 'x86' || (flags & MULTIBOOT_AOUT_KLUDGE) !== 0)
      return { kind: 'kernel', format: 'multiboot', arch };
    return unknown(
      'The file is a 64-bit kernel whose boot header gives no load addresses, so QEMU cannot start it.',
    );
  }
  if (hasMultiboot2(elf))
    return unknown(
      'The file is a Multiboot 2 kernel; QEMU starts only Multiboot 1, PVH or Linux kernels.',
    );
  return unknown(
    'The file is a program, not a kernel: it has no multiboot, PVH or Solo5 header to start it from.',
  );
}

/** Reads what the image is. Never throws: anything unreadable is "unknown" with a reason. */
export function inspectImage(image: Buffer): ImageFacts {
  if (image.length === 0) return unknown('The file is empty.');
  if (image.length >= 4 && image.readUInt32BE(0) === ELF_MAGIC) return inspectElf(image);
  if (image.length >= 0x206 && image.toString('latin1', 0x202, 0x206) === 'HdrS')
    return { kind: 'kernel', format: 'linux', arch: 'x86_64' };
  if (image.length >= 64 && image.readUInt32LE(56) === 0x644d5241)
    return { kind: 'kernel', format: 'linux', arch: 'aarch64' };
  if (image.length >= 2 && image[0] === 0x1f && image[1] === 0x8b)
    return unknown('The file is compressed (gzip). Unpack it first, then choose the result.');
  if (image.length >= 4 && image.toString('latin1', 0, 4) === 'QFI\xfb')
    return unknown('The file is a disk image (qcow2), not an app image.');
  const flags = image.length >= 12 ? multibootFlags(image) : null;
  if (flags !== null && (flags & MULTIBOOT_AOUT_KLUDGE) !== 0)
    return { kind: 'kernel', format: 'multiboot', arch: 'x86' };
  return unknown(
    'Hearth does not recognise the file: it is not a Solo5 unikernel, a multiboot or PVH kernel, or a Linux kernel.',
  );
}
