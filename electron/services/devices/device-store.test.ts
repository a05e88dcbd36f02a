import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../../shared/model';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { DeviceStore } from './device-store';
import { sampleDeviceRecord } from '../../../shared/sample-device';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function device(id: string, name: string, fingerprintChar: string): DeviceRecord {
  return sampleDeviceRecord({
    id,
    name,
    hostKeyFingerprint: `SHA256:${fingerprintChar.repeat(43)}`,
    provisionedAt: 1,
  });
}

function storeIn(dir: string, published: DeviceRecord[][]) {
  return new DeviceStore(new AtomicJsonStore(dir), (d) => published.push(d));
}

describe('the devices this computer looks after', () => {
  it('forgets one device, for good (a restarted Hearth does not bring it back)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-devices-'));
    dirs.push(dir);
    const published: DeviceRecord[][] = [];
    const store = storeIn(dir, published);
    await store.save(device('0f8fad5b-d9cb-469f-a165-70867728950e', 'Living-room Pi', 'a'));
    await store.save(device('7c9e6679-7425-40de-944b-e07fc1f90ae7', 'Attic box', 'b'));
    await store.forget('7c9e6679-7425-40de-944b-e07fc1f90ae7');
    expect(published.at(-1)?.map((d) => d.name)).toEqual(['Living-room Pi']);
    const again = storeIn(dir, []);
    expect((await again.list()).map((d) => d.name)).toEqual(['Living-room Pi']);
    expect(await again.byAddress('192.168.1.20')).toMatchObject({ name: 'Living-room Pi' });
  });

  it('a rename that races a forget does not bring the device back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-devices-'));
    dirs.push(dir);
    const store = storeIn(dir, []);
    const id = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
    await store.save(device(id, 'Attic box', 'b'));
    // The owner forgets it while a rename from another window is on its way.
    const forgot = store.forget(id);
    const renamed = store.rename(id, 'Loft box').catch((e: unknown) => e);
    await forgot;
    await renamed;
    expect(await storeIn(dir, []).list()).toEqual([]);
  });

  it('says so plainly when asked to forget a device it does not know', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-devices-'));
    dirs.push(dir);
    const store = storeIn(dir, []);
    await expect(store.forget('7c9e6679-7425-40de-944b-e07fc1f90ae7')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('never replaces a pinned key: a device.json id known under another key is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-devices-'));
    dirs.push(dir);
    const store = storeIn(dir, []);
    const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
    await store.save(device(id, 'Living-room Pi', 'a'));
    // An impersonator prepared at another address copied the Pi's id into its device.json.
    const impostor = { ...device(id, 'raspberrypi', 'c'), addresses: ['192.168.1.66'] };
    await expect(store.save(impostor)).rejects.toMatchObject({
      code: 'DEVICE_ID_TAKEN',
      message: expect.stringContaining('This device says it is your Living-room Pi') as string,
    });
    const kept = await storeIn(dir, []).get(id);
    expect(kept).toMatchObject({
      hostKeyFingerprint: `SHA256:${'a'.repeat(43)}`,
      addresses: ['192.168.1.20'],
    });
    // The owner's way out for a device they really reinstalled: forget it, then add it again.
    await store.forget(id);
    await store.save(impostor);
    expect((await store.get(id)).hostKeyFingerprint).toBe(`SHA256:${'c'.repeat(43)}`);
  });
});

describe('whether a device needs preparing again', () => {
  it('follows from the contract it was prepared with, and is never written to disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-devices-'));
    dirs.push(dir);
    const published: DeviceRecord[][] = [];
    const store = new DeviceStore(new AtomicJsonStore(dir), (d) => published.push(d), 'c0ffee');
    const pi = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const box = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
    await store.save({ ...device(pi, 'Living-room Pi', 'a'), preparedWith: 'c0ffee' });
    // Prepared before Hearth recorded what prepared it.
    await store.save(device(box, 'Attic box', 'b'));
    const judged = (list: DeviceRecord[]) => list.map((d) => [d.name, d.needsPreparing]);
    expect(judged(published.at(-1)!)).toEqual([
      ['Living-room Pi', false],
      ['Attic box', true],
    ]);
    await store.rename(pi, 'Hall Pi');
    expect((await store.get(pi)).needsPreparing).toBe(false);
    const file = readFileSync(join(dir, 'devices.json'), 'utf8');
    expect(file).not.toContain('needsPreparing');
    // A newer Hearth, whose device files differ: both need preparing, until prepared again.
    const newer = new DeviceStore(new AtomicJsonStore(dir), () => undefined, 'decade');
    expect(judged(await newer.list())).toEqual([
      ['Hall Pi', true],
      ['Attic box', true],
    ]);
    await newer.save({ ...(await newer.get(box)), preparedWith: 'decade' });
    expect((await newer.get(box)).needsPreparing).toBe(false);
  });
});
