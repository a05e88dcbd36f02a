import { describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../../shared/model';
import { checkIdentity, refuseUnlessTrusted } from './identity-check';

const FP_PI = `SHA256:${'a'.repeat(43)}`;
const FP_ATTIC = `SHA256:${'b'.repeat(43)}`;
const FP_OTHER = `SHA256:${'c'.repeat(43)}`;

function record(id: string, name: string, fp: string, address: string, hostname: string) {
  return {
    id,
    name,
    hostKeyFingerprint: fp,
    addresses: [address],
    hostname,
    sshPort: 22,
    hypervisor: 'kvm',
    provisionedAt: 1,
  } as DeviceRecord;
}

const pi = record(
  '0f8fad5b-d9cb-469f-a165-70867728950e',
  'Living-room Pi',
  FP_PI,
  '198.18.0.10',
  'raspberrypi',
);
const attic = record(
  '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  'Attic box',
  FP_ATTIC,
  '198.18.0.20',
  'attic',
);
const records = [pi, attic];
const nothing = { hearthIds: [], hostnames: [] };

describe('is this really the device it looks like', () => {
  it('refuses a new key that announces the Pi’s Hearth id at another address, by the Pi’s name', () => {
    const verdict = checkIdentity(
      records,
      { address: '198.18.0.11', hearthIds: [pi.id], hostnames: ['raspberrypi-2.local'] },
      FP_OTHER,
    );
    expect(verdict).toEqual({ kind: 'impersonating', device: pi });
    expect(() => refuseUnlessTrusted(verdict, FP_OTHER)).toThrow(
      expect.objectContaining({
        code: 'IMPERSONATION',
        message: expect.stringContaining(
          'This is not your Living-room Pi: it uses its name but proves a different identity.',
        ) as string,
      }),
    );
  });

  it('refuses a new key that only borrows the Pi’s host name, or is typed by it', () => {
    expect(
      checkIdentity(
        records,
        { address: '198.18.0.11', hearthIds: [], hostnames: ['RaspberryPi.local.'] },
        FP_OTHER,
      ),
    ).toMatchObject({ kind: 'impersonating', device: pi });
    expect(
      checkIdentity(records, { address: 'raspberrypi.local', ...nothing }, FP_OTHER),
    ).toMatchObject({
      kind: 'impersonating',
      device: pi,
    });
  });

  it('a new key where the Pi was last reached is the "identity changed" story', () => {
    const verdict = checkIdentity(
      records,
      { address: '198.18.0.10', hearthIds: [pi.id], hostnames: ['raspberrypi.local'] },
      FP_OTHER,
    );
    expect(verdict).toEqual({ kind: 'changed', device: pi });
    expect(() => refuseUnlessTrusted(verdict, FP_OTHER)).toThrow(
      expect.objectContaining({ code: 'HOST_KEY_CHANGED' }),
    );
  });

  it('a pinned key is that device, even where the LAN claims another device’s names', () => {
    // The Pi moved to the Attic box's old address, and someone announces the Attic box there.
    const verdict = checkIdentity(
      records,
      { address: '198.18.0.20', hearthIds: [attic.id], hostnames: ['attic.local'] },
      FP_PI,
    );
    expect(verdict).toEqual({ kind: 'known', device: pi });
    expect(() => refuseUnlessTrusted(verdict, FP_PI)).not.toThrow();
  });

  it('a device nobody claims is new; forgetting the Pi lets a reinstalled one be added', () => {
    expect(
      checkIdentity(
        records,
        { address: '198.18.0.30', hearthIds: ['other'], hostnames: ['debian.local'] },
        FP_OTHER,
      ),
    ).toEqual({ kind: 'new' });
    expect(
      checkIdentity(
        [attic],
        { address: '198.18.0.11', hearthIds: [pi.id], hostnames: ['raspberrypi.local'] },
        FP_OTHER,
      ),
    ).toEqual({ kind: 'new' });
  });
});
