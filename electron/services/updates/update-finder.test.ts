import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceRecord } from '../apps/apps-test-kit';
import { findOffer } from './update-finder';
import { catalogWith, counterIndex, counterVersion } from './update-test-kit';

describe('findOffer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-finder-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const pi = deviceRecord(); // aarch64 with KVM: takes qemu-aarch64 builds
  const pc = deviceRecord({
    capabilities: { ...deviceRecord().capabilities, arch: 'x86_64', rawArch: 'x86_64' },
  });

  async function catalog() {
    return catalogWith(
      dir,
      counterIndex([
        counterVersion('1.0.0', ['qemu-aarch64', 'qemu-x86_64']),
        counterVersion('1.5.0', ['qemu-aarch64'], 'Counts faster.\nKeeps its count.'),
        counterVersion('2.0.0', ['qemu-x86_64'], 'Only for PCs.'),
        counterVersion('3.0.0-beta.1', ['qemu-aarch64', 'qemu-x86_64']),
      ]),
    );
  }

  it('offers the newest version with a build for the device, with its notes', async () => {
    const c = await catalog();
    expect(await findOffer(c, pi, { appId: 'counter', version: '1.0.0' })).toEqual({
      offer: { version: '1.5.0', releaseNotes: 'Counts faster.\nKeeps its count.' },
      catalogId: 'default',
    });
    // A PC takes 2.0.0, which the Pi cannot run.
    expect((await findOffer(c, pc, { appId: 'counter', version: '1.0.0' })).offer).toEqual({
      version: '2.0.0',
      releaseNotes: 'Only for PCs.',
    });
  });

  it('looks for the build the app runs now, also on a device that has since gained a tender', async () => {
    const c = await catalogWith(
      dir,
      counterIndex([
        counterVersion('1.0.0', ['qemu-aarch64']),
        counterVersion('1.5.0', ['qemu-aarch64', 'spt-aarch64']),
        counterVersion('2.0.0', ['spt-aarch64'], 'Only for Solo5 spt.'),
      ]),
    );
    const withSpt = deviceRecord({
      capabilities: { ...deviceRecord().capabilities, solo5Spt: true },
    });
    const installed = { appId: 'counter', version: '1.0.0' };
    // Under QEMU it stays under QEMU: 1.5.0, not the spt-only 2.0.0.
    expect(
      (await findOffer(c, withSpt, { ...installed, target: 'qemu-aarch64' })).offer?.version,
    ).toBe('1.5.0');
    expect(
      (await findOffer(c, withSpt, { ...installed, target: 'spt-aarch64' })).offer?.version,
    ).toBe('2.0.0');
  });

  it('offers nothing when up to date, never a pre-release, nothing older', async () => {
    const c = await catalog();
    expect((await findOffer(c, pi, { appId: 'counter', version: '1.5.0' })).offer).toBeNull();
    expect((await findOffer(c, pc, { appId: 'counter', version: '2.0.0' })).offer).toBeNull();
    // Installed when the catalog had a later version than it has now: no "update" backwards.
    expect((await findOffer(c, pi, { appId: 'counter', version: '1.9.0' })).offer).toBeNull();
  });

  it('offers nothing to an app installed from a file, or one no catalog has', async () => {
    const c = await catalog();
    expect(await findOffer(c, pi, { appId: 'counter', version: 'file 3f2a9c1d0b4e' })).toEqual({
      offer: null,
      catalogId: null,
    });
    expect(await findOffer(c, pi, { appId: 'notes', version: '1.0.0' })).toEqual({
      offer: null,
      catalogId: null,
    });
    const odd = deviceRecord({
      capabilities: { ...pi.capabilities, arch: null, rawArch: 'riscv64' },
    } as never);
    expect((await findOffer(c, odd, { appId: 'counter', version: '1.0.0' })).offer).toBeNull();
  });
});
