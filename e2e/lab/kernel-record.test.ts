import { describe, expect, it } from 'vitest';
import {
  bootMagic,
  encodeRecord,
  fnv1a,
  heartbeatMagic,
  parseCounterDisk,
  parseCounterSerial,
  sectorSize,
} from './kernel-record';

describe('counter kernel records', () => {
  it('uses 32-bit FNV-1a', () => {
    expect(fnv1a(new Uint8Array())).toBe(0x811c9dc5);
    expect(fnv1a(Buffer.from('a'))).toBe(0xe40c292c);
  });

  it('reads back boot and heartbeat records', () => {
    const image = Buffer.concat([
      encodeRecord(bootMagic, 2, 7),
      encodeRecord(heartbeatMagic, 7, 42),
    ]);
    expect(parseCounterDisk(image)).toEqual({
      boot: { version: 2, counter: 7, checksumOk: true },
      heartbeat: { boot: 7, beats: 42, checksumOk: true },
    });
  });

  it('matches a record the C kernel wrote (v1, boot 2)', () => {
    const sector = Buffer.alloc(sectorSize);
    Buffer.from('4852544843 4e5431 01000000 02000000 9a47892b'.replace(/ /g, ''), 'hex').copy(
      sector,
    );
    expect(parseCounterDisk(sector).boot).toEqual({ version: 1, counter: 2, checksumOk: true });
  });

  it('notices a torn or corrupted record', () => {
    const boot = encodeRecord(bootMagic, 1, 5);
    boot[12] = 6;
    expect(parseCounterDisk(boot).boot?.checksumOk).toBe(false);
  });

  it('finds nothing on a blank disk', () => {
    expect(parseCounterDisk(Buffer.alloc(1024))).toEqual({});
  });

  it('reads the serial console through firmware noise', () => {
    const text =
      'SeaBIOS\r\nBooting from ROM..hearth-counter v3 boot 4 mode normal\r\nREADY\r\nheartbeat 1\r\nheartbeat 2\r\nPANIC: v3 fails shortly after READY\r\n';
    expect(parseCounterSerial(text)).toEqual({
      version: 3,
      boot: 4,
      mode: 'normal',
      ready: true,
      heartbeats: 2,
      panic: 'v3 fails shortly after READY',
    });
    expect(parseCounterSerial('hearth-counter v1 boot 1 mode slow\n')).toMatchObject({
      mode: 'slow',
      ready: false,
      heartbeats: 0,
    });
  });
});
