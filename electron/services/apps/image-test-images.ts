// Tiny image files for tests, laid out as their formats document (see image-inspection.ts):
// ELF headers with PT_NOTE segments holding Solo5 ABI1/MFT1 or Xen PVH notes, multiboot headers,
// and a Linux boot sector. No real kernel is needed to test how Hearth reads them.
export const solo5Abi = { hvt: 1, spt: 2, virtio: 3, muen: 4, genode: 5, xen: 6 } as const;

function note(name: string, type: number, desc: Buffer): Buffer {
  const nameBytes = Buffer.alloc(Math.ceil((name.length + 1) / 4) * 4);
  nameBytes.write(name, 'latin1');
  const header = Buffer.alloc(12);
  header.writeUInt32LE(name.length + 1, 0);
  header.writeUInt32LE(desc.length, 4);
  header.writeUInt32LE(type, 8);
  const padded = Buffer.alloc(Math.ceil(desc.length / 4) * 4);
  desc.copy(padded);
  return Buffer.concat([header, nameBytes, padded]);
}

/** Solo5's ABI1 note: abi_target, abi_version, two reserved words. */
export function abi1Note(target: number): Buffer {
  const desc = Buffer.alloc(16);
  desc.writeUInt32LE(target, 0);
  desc.writeUInt32LE(1, 4);
  return note('Solo5', 0x31494241, desc);
}

/** Solo5's MFT1 note (mft_abi.h): 4 bytes of alignment padding, then struct mft. */
export function mft1Note(devices: { name: string; type: 'net' | 'block' }[]): Buffer {
  const entries = [
    { name: '', type: 1 << 30 },
    ...devices.map((d) => ({ name: d.name, type: d.type === 'net' ? 2 : 1 })),
  ];
  const mft = Buffer.alloc(4 + 8 + entries.length * 104);
  mft.writeUInt32LE(1, 4);
  mft.writeUInt32LE(entries.length, 8);
  entries.forEach((e, i) => {
    mft.write(e.name, 12 + i * 104, 'latin1');
    mft.writeUInt32LE(e.type, 12 + i * 104 + 68);
  });
  return note('Solo5', 0x3154464d, mft);
}

export function pvhNote(): Buffer {
  const desc = Buffer.alloc(4);
  desc.writeUInt32LE(0x100000, 0);
  return note('Xen', 18, desc);
}

/** A multiboot v1 header; `aout` adds the load-address fields (flag 16). */
export function multibootHeader(aout = false): Buffer {
  const header = Buffer.alloc(aout ? 32 : 12);
  const flags = aout ? 0x10003 : 0x3;
  header.writeUInt32LE(0x1badb002, 0);
  header.writeUInt32LE(flags, 4);
  header.writeUInt32LE(-(0x1badb002 + flags) >>> 0, 8);
  return header;
}

/** An ELF executable (64- or 32-bit, little-endian) with its notes in one PT_NOTE segment. */
export function elfImage(
  options: { bits?: 32 | 64; machine?: number; notes?: Buffer[]; body?: Buffer } = {},
): Buffer {
  const bits = options.bits ?? 64;
  const notes = Buffer.concat(options.notes ?? []);
  const ehdrSize = bits === 64 ? 64 : 52;
  const phentsize = bits === 64 ? 56 : 32;
  const ehdr = Buffer.alloc(ehdrSize);
  ehdr.write('\x7fELF', 0, 'latin1');
  ehdr[4] = bits === 64 ? 2 : 1;
  ehdr[5] = 1;
  ehdr[6] = 1;
  ehdr.writeUInt16LE(2, 16);
  ehdr.writeUInt16LE(options.machine ?? (bits === 64 ? 62 : 3), 18);
  const body = options.body ?? Buffer.alloc(0);
  const phdr = Buffer.alloc(notes.length > 0 ? phentsize : 0);
  const bodyOff = ehdrSize + phdr.length;
  const notesOff = bodyOff + body.length;
  if (notes.length > 0) {
    if (bits === 64) {
      ehdr.writeBigUInt64LE(BigInt(ehdrSize), 32);
      ehdr.writeUInt16LE(phentsize, 54);
      ehdr.writeUInt16LE(1, 56);
      phdr.writeUInt32LE(4, 0);
      phdr.writeBigUInt64LE(BigInt(notesOff), 8);
      phdr.writeBigUInt64LE(BigInt(notes.length), 32);
    } else {
      ehdr.writeUInt32LE(ehdrSize, 28);
      ehdr.writeUInt16LE(phentsize, 42);
      ehdr.writeUInt16LE(1, 44);
      phdr.writeUInt32LE(4, 0);
      phdr.writeUInt32LE(notesOff, 4);
      phdr.writeUInt32LE(notes.length, 16);
    }
  }
  return Buffer.concat([ehdr, phdr, body, notes]);
}

/** A Solo5 unikernel for `abi` that needs these devices. */
export function solo5Image(
  abi: keyof typeof solo5Abi,
  devices: { name: string; type: 'net' | 'block' }[] = [],
  machine = 62,
): Buffer {
  return elfImage({ machine, notes: [abi1Note(solo5Abi[abi]), mft1Note(devices)] });
}

/** A 32-bit multiboot kernel, like the lab's counter kernel. */
export function multibootKernel(): Buffer {
  return elfImage({ bits: 32, body: multibootHeader() });
}

/** The start of an x86 Linux bzImage: boot sector signature and "HdrS". */
export function linuxBzImage(): Buffer {
  const image = Buffer.alloc(1024);
  image.writeUInt16LE(0xaa55, 0x1fe);
  image.write('HdrS', 0x202, 'latin1');
  return image;
}
