/**
 * The test kernel's on-disk records (see e2e/fixtures/counter-kernel/kernel.c): sector 0 holds
 * the boot record, sector 1 the heartbeat; each is an 8-byte magic, two little-endian u32 and an
 * FNV-1a checksum of the first 16 bytes. Later issues read these to check that backups and
 * rollbacks kept a consistent disk.
 */
export const sectorSize = 512;
export const bootMagic = 'HRTHCNT1';
export const heartbeatMagic = 'HRTHBEAT';

export function fnv1a(bytes: Uint8Array): number {
  let h = 2166136261;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h >>> 0;
}

export interface Record {
  magic: string;
  a: number;
  b: number;
  checksumOk: boolean;
}

export function parseRecord(sector: Buffer): Record | undefined {
  if (sector.length < 20) return undefined;
  const magic = sector.subarray(0, 8).toString('latin1');
  if (magic !== bootMagic && magic !== heartbeatMagic) return undefined;
  return {
    magic,
    a: sector.readUInt32LE(8),
    b: sector.readUInt32LE(12),
    checksumOk: sector.readUInt32LE(16) === fnv1a(sector.subarray(0, 16)),
  };
}

export function encodeRecord(magic: string, a: number, b: number): Buffer {
  const s = Buffer.alloc(sectorSize);
  s.write(magic, 0, 8, 'latin1');
  s.writeUInt32LE(a >>> 0, 8);
  s.writeUInt32LE(b >>> 0, 12);
  s.writeUInt32LE(fnv1a(s.subarray(0, 16)), 16);
  return s;
}

export interface CounterDisk {
  /** Version that last booted from this disk and how many boots it has seen. */
  boot?: { version: number; counter: number; checksumOk: boolean };
  /** The boot that last beat, and how many seconds it had been READY. */
  heartbeat?: { boot: number; beats: number; checksumOk: boolean };
}

export function parseCounterDisk(image: Buffer): CounterDisk {
  const boot = parseRecord(image.subarray(0, sectorSize));
  const beat = parseRecord(image.subarray(sectorSize, 2 * sectorSize));
  const disk: CounterDisk = {};
  if (boot?.magic === bootMagic)
    disk.boot = { version: boot.a, counter: boot.b, checksumOk: boot.checksumOk };
  if (beat?.magic === heartbeatMagic) {
    disk.heartbeat = { boot: beat.a, beats: beat.b, checksumOk: beat.checksumOk };
  }
  return disk;
}

export interface CounterSerial {
  version?: number;
  boot?: number;
  mode?: 'normal' | 'slow' | 'crash';
  ready: boolean;
  heartbeats: number;
  panic?: string;
}

/** Reads the kernel's serial console (firmware noise and CRs are ignored). */
export function parseCounterSerial(text: string): CounterSerial {
  const out: CounterSerial = { ready: false, heartbeats: 0 };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r/g, '');
    const hello = /hearth-counter v(\d+) boot (\d+) mode (normal|slow|crash)/.exec(line);
    if (hello) {
      out.version = Number(hello[1]);
      out.boot = Number(hello[2]);
      out.mode = hello[3] as CounterSerial['mode'];
    }
    if (/^READY\s*$/.test(line)) out.ready = true;
    const beat = /^heartbeat (\d+)/.exec(line);
    if (beat) out.heartbeats = Math.max(out.heartbeats, Number(beat[1]));
    const panic = /^PANIC: (.*)$/.exec(line);
    if (panic) out.panic = panic[1];
  }
  return out;
}
