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
    expect(r.learnHostKey('10.0.0.5', FP_A)).toBe(`ssh:${FP_A}`);
    expect(r.learnHostKey('10.0.0.6', FP_A)).toBe(`ssh:${FP_A}`);
    const list = r.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ key: `ssh:${FP_A}`, hostKeyFingerprint: FP_A });
    // The UI's old key still finds it.
    expect(r.get('host:raspberrypi.local')?.key).toBe(`ssh:${FP_A}`);
  });

  it('keeps devices with different host keys apart even when a name is shared', () => {
    const r = new DeviceRegistry();
    r.setMdnsSightings('a', [sighting({ host: 'raspberrypi.local', addresses: ['10.0.0.5'] })]);
    r.learnHostKey('10.0.0.5', FP_A);
    r.addAddressSighting({
      address: '10.0.0.9',
      port: 22,
      source: 'scan',
      lastSeen: 5,
      banner: 'SSH-2.0-x',
    });
    r.learnHostKey('10.0.0.9', FP_B);
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
    expect(r.learnHostKey('10.0.0.5', 'MD5:aa')).toBeUndefined();
    expect(r.learnHostKey('raspberrypi.local', FP_A)).toBeUndefined();
    expect(r.learnHostKey('10.0.0.77', FP_A)).toBeUndefined();
  });
});

describe('DeviceRegistry and an impersonator', () => {
  const PI_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const hearth = (host: string, ip: string, instance = 'raspberrypi') =>
    sighting({ host, kind: 'hearth', instance, addresses: [ip], txt: { id: PI_ID } });

  it('an unchecked sighting of the Pi’s Hearth id and name at a new address stays apart', () => {
    const r = new DeviceRegistry();
    r.setMdnsSightings('a', [
      hearth('raspberrypi.local', '198.18.0.10'),
      sighting({ host: 'raspberrypi.local', addresses: ['198.18.0.10'] }),
    ]);
    r.learnHostKey('198.18.0.10', FP_A);
    const before = r.list();
    expect(before).toEqual([
      expect.objectContaining({ key: `hearth:${PI_ID}`, addresses: ['198.18.0.10'] }),
    ]);
    // Someone else announces the Pi's id and host name, from its own address.
    r.setMdnsSightings('a', [
      hearth('raspberrypi.local', '198.18.0.10'),
      sighting({ host: 'raspberrypi.local', addresses: ['198.18.0.10'] }),
      hearth('raspberrypi.local', '198.18.0.11', 'raspberrypi #2'),
    ]);
    const list = r.list();
    expect(list).toHaveLength(2);
    // The Pi keeps its key, its entry and its only address.
    expect(r.get(`hearth:${PI_ID}`)).toMatchObject({
      hostKeyFingerprint: FP_A,
      addresses: ['198.18.0.10'],
    });
    const other = list.find((d) => d.addresses.includes('198.18.0.11'));
    expect(other).toMatchObject({
      key: `hearth:${PI_ID}|at:198.18.0.11`,
      addresses: ['198.18.0.11'],
    });
    expect(other?.hostKeyFingerprint).toBeUndefined();
    expect(r.claimsAt('198.18.0.11')).toEqual({
      hearthIds: [PI_ID],
      hostnames: ['raspberrypi.local'],
    });
    // Once its own (different) key is seen, it is keyed by it and still apart.
    r.learnHostKey('198.18.0.11', FP_B);
    expect(r.list().map((d) => [d.key, d.hostKeyFingerprint])).toEqual(
      expect.arrayContaining([
        [`hearth:${PI_ID}`, FP_A],
        [`hearth:${PI_ID}|ssh:${FP_B}`, FP_B],
      ]),
    );
  });

  it('learning the Pi’s key at its address never vouches for another address in the same entry', () => {
    const r = new DeviceRegistry();
    // Before any key is known, both announce one id and are shown as one entry.
    r.setMdnsSightings('a', [
      hearth('raspberrypi.local', '198.18.0.10'),
      hearth('raspberrypi-2.local', '198.18.0.11'),
    ]);
    expect(r.list()).toHaveLength(1);
    r.learnHostKey('198.18.0.10', FP_A);
    const pi = r.get(`hearth:${PI_ID}`);
    expect(pi).toMatchObject({ hostKeyFingerprint: FP_A, addresses: ['198.18.0.10'] });
    expect(r.list()).toHaveLength(2);
  });

  it('an impostor that also lists the Pi’s address never adds its own to the Pi', () => {
    const r = new DeviceRegistry();
    r.setMdnsSightings('a', [hearth('raspberrypi.local', '198.18.0.10')]);
    r.learnHostKey('198.18.0.10', FP_A);
    r.setMdnsSightings('a', [
      hearth('raspberrypi.local', '198.18.0.10'),
      sighting({ host: 'raspberrypi-2.local', addresses: ['198.18.0.10', '198.18.0.11'] }),
    ]);
    expect(r.get(`hearth:${PI_ID}`)).toMatchObject({
      hostKeyFingerprint: FP_A,
      addresses: ['198.18.0.10'],
    });
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
