import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { HearthError } from '../../../shared/errors';
import { DeviceStore } from './device-store';
import { identifyDevice } from './identify-device';
import { sampleDeviceRecord } from '../../../shared/sample-device';

const FP_PI = `SHA256:${'a'.repeat(43)}`;
const FP_IMPOSTOR = `SHA256:${'c'.repeat(43)}`;
const PI_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function storeWithPi(): Promise<DeviceStore> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-identify-'));
  dirs.push(dir);
  const store = new DeviceStore(new AtomicJsonStore(dir), () => undefined);
  await store.save(
    sampleDeviceRecord({
      id: PI_ID,
      name: 'Living-room Pi',
      hostKeyFingerprint: FP_PI,
      addresses: ['198.18.0.10'],
      hypervisor: 'qemu',
      provisionedAt: 1,
    }),
  );
  return store;
}

describe('"Is this your device?"', () => {
  it('names the known device an impostor borrows the Hearth id of, before any sign-in', async () => {
    const devices = await storeWithPi();
    const events: string[] = [];
    const identity = await identifyDevice(
      {
        probe: (address) => {
          events.push(`probe ${address}`);
          return Promise.resolve({
            fingerprint: FP_IMPOSTOR,
            algorithm: 'ssh-ed25519',
            banner: 'SSH-2.0-x',
          });
        },
        devices,
        claims: (address) => {
          events.push(`claims ${address}`);
          return { hearthIds: [PI_ID], hostnames: ['raspberrypi-2.local'] };
        },
        learned: (address, fingerprint) => events.push(`learned ${address} ${fingerprint}`),
      },
      '198.18.0.11',
      22,
    );
    expect(identity).toMatchObject({
      address: '198.18.0.11',
      fingerprint: FP_IMPOSTOR,
      previousFingerprint: null,
      impersonates: { name: 'Living-room Pi', fingerprint: FP_PI },
    });
    // The claims are what the LAN said before Hearth learned the key at that address.
    expect(events).toEqual([
      'probe 198.18.0.11',
      'claims 198.18.0.11',
      `learned 198.18.0.11 ${FP_IMPOSTOR}`,
    ]);
  });

  it('the Pi itself, wherever it is now, is simply the Pi', async () => {
    const devices = await storeWithPi();
    const identity = await identifyDevice(
      {
        probe: () =>
          Promise.resolve({ fingerprint: FP_PI, algorithm: 'ssh-ed25519', banner: 'SSH-2.0-x' }),
        devices,
        claims: () => ({ hearthIds: [PI_ID], hostnames: ['raspberrypi.local'] }),
      },
      '198.18.0.42',
      22,
    );
    expect(identity).toMatchObject({ previousFingerprint: null, impersonates: null });
  });

  it('tries once more when the first look met no device, and not when the device answered wrongly', async () => {
    const devices = await storeWithPi();
    const answers = [new HearthError('DEVICE_UNREACHABLE'), null];
    const tries: string[] = [];
    const probe = (address: string) => {
      tries.push(address);
      const next = answers.shift();
      return next
        ? Promise.reject(next)
        : Promise.resolve({ fingerprint: FP_PI, algorithm: 'ssh-ed25519', banner: 'SSH-2.0-x' });
    };
    const identity = await identifyDevice({ probe, devices, retryAfterMs: 0 }, '198.18.0.10', 22);
    expect(identity.fingerprint).toBe(FP_PI);
    expect(tries).toEqual(['198.18.0.10', '198.18.0.10']);

    // Twice unreachable: the owner reads that, after the second try.
    tries.length = 0;
    answers.push(new HearthError('DEVICE_TIMEOUT'), new HearthError('DEVICE_UNREACHABLE'));
    await expect(
      identifyDevice({ probe, devices, retryAfterMs: 0 }, '198.18.0.10', 22),
    ).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE' });
    expect(tries).toHaveLength(2);

    // Refused, or garbage instead of SSH: asking again would not change it.
    for (const code of ['DEVICE_REFUSED', 'DEVICE_GARBLED'] as const) {
      tries.length = 0;
      answers.push(new HearthError(code));
      await expect(
        identifyDevice({ probe, devices, retryAfterMs: 0 }, '198.18.0.10', 22),
      ).rejects.toMatchObject({ code });
      expect(tries).toHaveLength(1);
    }
  });
});
