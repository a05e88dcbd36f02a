import { describe, expect, it } from 'vitest';
import { findBannerLine, parseSshBanner } from './ssh-banner';
import { describeDevice, descriptions } from './describe-device';

describe('parseSshBanner', () => {
  it('reads Debian from the OpenSSH comment', () => {
    const b = parseSshBanner('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
    expect(b).toMatchObject({ protocol: '2.0', software: 'OpenSSH_9.2p1', os: 'debian' });
  });
  it('reads Raspbian and Ubuntu', () => {
    expect(parseSshBanner('SSH-2.0-OpenSSH_7.9p1 Raspbian-10+deb10u2')?.os).toBe('raspbian');
    expect(parseSshBanner('SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6')?.os).toBe('ubuntu');
    expect(parseSshBanner('SSH-2.0-dropbear_2022.83')?.os).toBe('other');
  });
  it('rejects what is not a banner and sanitises what is', () => {
    expect(parseSshBanner('HTTP/1.1 400 Bad Request')).toBeUndefined();
    const b = parseSshBanner(`SSH-2.0-x \u202e\u0007evil${'a'.repeat(1000)}`);
    expect(b?.raw.length).toBeLessThanOrEqual(255);
    // eslint-disable-next-line no-control-regex
    expect(b?.raw).not.toMatch(/[\u202e\u0007]/);
  });
});

describe('findBannerLine', () => {
  it('skips pre-banner lines and waits for a full line', () => {
    expect(findBannerLine('SSH-2.0-Open')).toBe('incomplete');
    expect(findBannerLine('hello\r\nSSH-2.0-OpenSSH_9.2p1\r\n')).toEqual({
      line: 'SSH-2.0-OpenSSH_9.2p1',
    });
  });
  it('gives up on HTTP, binary and floods', () => {
    expect(findBannerLine('HTTP/1.1 400 Bad\r\n')).toBe('not-ssh');
    expect(findBannerLine('\0\0\0\n')).toBe('not-ssh');
    expect(findBannerLine('x'.repeat(9000))).toBe('not-ssh');
    expect(findBannerLine('a\n'.repeat(5000))).toBe('not-ssh');
  });
});

describe('describeDevice', () => {
  const base = { kind: 'candidate' as const, hostnames: [] as string[], hasSsh: true };
  it('says what each device is in plain words', () => {
    expect(describeDevice({ ...base, kind: 'hearth' })).toBe(descriptions.hearth);
    expect(describeDevice({ ...base, hostnames: ['raspberrypi.local'] })).toBe(
      descriptions.piDebian,
    );
    expect(describeDevice({ ...base, hostnames: ['raspberrypi-2.local'] })).toBe(
      descriptions.piDebian,
    );
    expect(
      describeDevice({
        ...base,
        hostnames: ['raspberrypi.local'],
        sshBanner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3',
      }),
    ).toBe(descriptions.piDebian);
    expect(
      describeDevice({ ...base, sshBanner: 'SSH-2.0-OpenSSH_7.9p1 Raspbian-10+deb10u2' }),
    ).toBe(descriptions.piOs);
    expect(describeDevice({ ...base, sshBanner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3' })).toBe(
      descriptions.computerDebian,
    );
    expect(describeDevice({ ...base, hostnames: ['nas.local'] })).toBe(descriptions.ssh);
    expect(describeDevice({ ...base, hasSsh: false })).toBe(descriptions.unknown);
    expect(descriptions.ssh).toBe('Computer that accepts sign-ins (SSH)');
  });
});
