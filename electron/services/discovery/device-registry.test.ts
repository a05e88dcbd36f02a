import { describe, expect, it } from 'vitest';
import { DeviceRegistry } from './device-registry';
import { FP_A, FP_B, sighting } from './test-helpers';

describe('DeviceRegistry identity', () => {
  it('is one device for several services and two interfaces', () => {
    const r = new DeviceRegistry();
    r.setMdnsSightings('eth0/192.168.1.2', [
      sighting({ host: 'raspberrypi.local', addresses: ['192.168.1.10'] }),
      sighting({ host: 'raspberrypi.local', kind: 'sftp-ssh', addresses: ['192.168.1.10'] }),
      sighting({
        host: 'raspberrypi.local',
        kind: 'workstation',
        instance: 'raspberrypi [dc:a6:32:01:02:03]',
      }),
    ]);
    r.setMdnsSightings('wlan0/10.0.0.2', [
      sighting({ host: 'raspberrypi.local', addresses: ['10.0.0.10'], interfaceName: 'wlan0' }),
    ]);
    const list = r.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      key: 'host:raspberrypi.local',
      name: 'raspberrypi',
      hostnames: ['raspberrypi.local'],
      addresses: ['10.0.0.10', '192.168.1.10'],
      interfaces: ['eth0', 'wlan0'],
      services: ['ssh', 'sftp-ssh', 'workstation'],
      sshPort: 22,
      kind: 'candidate',
      description: 'Raspberry Pi running Debian',
      source: 'mdns',
    });
  });

  it('keys a Hearth device by its id, across a rename', () => {
    const r = new DeviceRegistry();
    const hearth = (host: string, ip: string) =>
      sighting({
        host,
        kind: 'hearth',
        instance: 'Living-room Pi',
        addresses: [ip],
        txt: { id: 'dev-1', arch: 'aarch64', hv: 'kvm', v: '1' },
      });
    r.setMdnsSightings('a', [
      hearth('raspberrypi.local', '10.0.0.5'),
      sighting({ host: 'raspberrypi.local' }),
    ]);
    r.setMdnsSightings('b', [hearth('raspberrypi-2.local', '10.0.0.6')]);
    expect(r.list()).toEqual([
      expect.objectContaining({
        key: 'hearth:dev-1',
        name: 'Living-room Pi',
        kind: 'hearth',
        hearthId: 'dev-1',
        arch: 'aarch64',
        hypervisor: 'kvm',
        hostnames: ['raspberrypi.local', 'raspberrypi-2.local'],
        description: 'Already a Hearth device',
      }),
    ]);
  });

  it('never merges two different Hearth ids even on one address', () => {
    const r = new DeviceRegistry();
    r.setMdnsSightings('a', [
      sighting({ host: 'a.local', kind: 'hearth', addresses: ['10.0.0.5'], txt: { id: 'one' } }),
      sighting({ host: 'b.local', kind: 'hearth', addresses: ['10.0.0.5'], txt: { id: 'two' } }),
    ]);
    expect(
      r
        .list()
        .map((d) => d.key)
        .sort(),
    ).toEqual(['hearth:one', 'hearth:two']);
  });

  it('merges a renamed host once the SSH layer reports the same host key', () => {
    const r = new DeviceRegistry();
    r.setMdnsSightings('a', [
      sighting({ host: 'raspberrypi.local', addresses: ['10.0.0.5'] }),
      sighting({ host: 'raspberrypi-2.local', addresses: ['10.0.0.6'] }),
    ]);
    expect(r.list()).toHaveLength(2);
    expect(r.setHostKey('host:raspberrypi.local', FP_A)).toBe(`ssh:${FP_A}`);
    expect(r.setHostKey('host:raspberrypi-2.local', FP_A)).toBe(`ssh:${FP_A}`);
    const list = r.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ key: `ssh:${FP_A}`, hostKeyFingerprint: FP_A });
    // The UI's old key still finds it.
    expect(r.get('host:raspberrypi.local')?.key).toBe(`ssh:${FP_A}`);
  });

  it('keeps devices with different host keys apart even when a name is shared', () => {
    const r = new DeviceRegistry();
    r.setMdnsSightings('a', [sighting({ host: 'raspberrypi.local', addresses: ['10.0.0.5'] })]);
    r.setHostKey('host:raspberrypi.local', FP_A);
    r.addAddressSighting({
      address: '10.0.0.9',
      port: 22,
      source: 'scan',
      lastSeen: 5,
      banner: 'SSH-2.0-x',
    });
    r.setHostKey('address:10.0.0.9', FP_B);
    r.addAddressSighting({
      address: '10.0.0.5',
      port: 22,
      source: 'manual',
      lastSeen: 6,
      banner: 'SSH-2.0-y',
    });
    const keys = r
      .list()
      .map((d) => d.key)
      .sort();
    expect(keys).toEqual([`ssh:${FP_A}`, `ssh:${FP_B}`]);
    expect(r.get(`ssh:${FP_A}`)?.source).toBe('mdns');
  });

  it('merges a manual address with the mDNS device at that address', () => {
    const r = new DeviceRegistry();
    r.setMdnsSightings('a', [sighting({ host: 'debian.local', addresses: ['10.0.0.7'] })]);
    r.addAddressSighting({
      address: '10.0.0.7',
      port: 22,
      source: 'manual',
      lastSeen: 2000,
      banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3',
    });
    expect(r.list()).toEqual([
      expect.objectContaining({
        key: 'host:debian.local',
        description: 'Computer running Debian',
        sshBanner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3',
        lastSeen: 2000,
      }),
    ]);
  });

  it('drops an mDNS device when its interface goes away but keeps manual ones', () => {
    const r = new DeviceRegistry();
    r.setMdnsSightings('a', [sighting({ host: 'x.local' })]);
    r.addAddressSighting({
      address: '10.0.0.8',
      port: 22,
      source: 'manual',
      lastSeen: 1,
      banner: 'SSH-2.0-z',
    });
    r.removeBrowser('a');
    expect(r.list().map((d) => d.key)).toEqual(['address:10.0.0.8']);
    expect(r.list()[0]).toMatchObject({ source: 'manual', services: ['ssh'], name: '10.0.0.8' });
  });

  it('rejects fingerprints that are not OpenSSH SHA256 form', () => {
    const r = new DeviceRegistry();
    r.setMdnsSightings('a', [sighting({ host: 'x.local' })]);
    expect(r.setHostKey('host:x.local', 'MD5:aa')).toBeUndefined();
    expect(r.setHostKey('host:nope.local', FP_A)).toBeUndefined();
  });
});

describe('DeviceRegistry under hostile input', () => {
  it('bounds the number of entries and sanitises names', () => {
    const r = new DeviceRegistry({ maxDevices: 50 });
    r.setMdnsSightings(
      'a',
      Array.from({ length: 10_000 }, (_, i) =>
        sighting({
          host: `h${i}.local`,
          instance: `\u202eevil\u0000${i}\n${'x'.repeat(500)}`,
          lastSeen: i,
        }),
      ),
    );
    const list = r.list();
    expect(list).toHaveLength(50);
    for (const d of list) {
      expect(d.name.length).toBeLessThanOrEqual(63);
      // eslint-disable-next-line no-control-regex
      expect(d.name).not.toMatch(/[\u0000-\u001f\u202e]/);
    }
  });
});
