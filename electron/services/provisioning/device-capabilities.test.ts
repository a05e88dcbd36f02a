import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capabilitiesScript } from '../device/prepare-commands';
import {
  chooseHypervisor,
  describeCapabilities,
  parseCapabilities,
  tenderNote,
} from './device-capabilities';

const raspberryPi = `@arch
aarch64
@os
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
@xen
@kvm
@tools
qemu-system-aarch64
qemu-img
systemctl
avahi-daemon
visudo
@mem
MemTotal:        3884068 kB
MemAvailable:    3500000 kB
@disk
/dev/mmcblk0p2   29000000 4000000 25000000  14% /
@end
`;

describe('reading what a device is', () => {
  it('understands a Raspberry Pi running Debian', () => {
    const caps = parseCapabilities(raspberryPi);
    expect(caps).toMatchObject({
      arch: 'aarch64',
      os: { id: 'debian', version: '12', debianFamily: true },
      qemu: true,
      xenDom0: false,
      kvmDevice: false,
      avahi: true,
      systemd: true,
      memoryBytes: 3884068 * 1024,
      freeDiskBytes: 25000000 * 1024,
    });
    expect(chooseHypervisor(caps)).toBe('qemu');
    expect(describeCapabilities(caps)).toBe(
      'Debian GNU/Linux 12 (bookworm) (aarch64), 4 GB memory',
    );
  });

  it('recognises a Xen dom0 only with control_d and xl together', () => {
    const dom0 = raspberryPi.replace('@xen\n', '@xen\ncontrol_d\nxl\n');
    expect(chooseHypervisor(parseCapabilities(dom0))).toBe('xen');
    const domU = raspberryPi.replace('@xen\n', '@xen\nxl\n');
    expect(parseCapabilities(domU).xenDom0).toBe(false);
  });

  it('knows Raspberry Pi OS and Ubuntu are Debian-based, and Fedora is not', () => {
    expect(
      parseCapabilities(raspberryPi.replace('ID=debian', 'ID=raspbian\nID_LIKE=debian')).os
        .debianFamily,
    ).toBe(true);
    expect(
      parseCapabilities(raspberryPi.replace('ID=debian', 'ID=ubuntu\nID_LIKE=debian')).os
        .debianFamily,
    ).toBe(true);
    expect(parseCapabilities(raspberryPi.replace('ID=debian', 'ID=fedora')).os.debianFamily).toBe(
      false,
    );
  });

  it('says the answer is garbled rather than guessing', () => {
    for (const garbage of ['', 'hello', '@arch\nx86_64\n', '\u0000\u0001binary']) {
      expect(() => parseCapabilities(garbage)).toThrow(
        expect.objectContaining({ code: 'DEVICE_GARBLED' }) as Error,
      );
    }
  });

  it('bounds what it keeps from a hostile answer', () => {
    const hostile = raspberryPi.replace(
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
      `PRETTY_NAME="${'A'.repeat(100_000)}"`,
    );
    expect(parseCapabilities(hostile).os.name.length).toBeLessThanOrEqual(80);
  });

  it('records the Solo5 tenders it found, and spt only where the kernel has seccomp', () => {
    expect(parseCapabilities(raspberryPi)).toMatchObject({ solo5Hvt: false, solo5Spt: false });
    const both = raspberryPi.replace(
      '@mem',
      '@tenders\nsolo5-hvt\nsolo5-spt\n@seccomp\npresent\n@mem',
    );
    expect(parseCapabilities(both)).toMatchObject({ solo5Hvt: true, solo5Spt: true });
    const noSeccomp = both.replace('@seccomp\npresent\n', '@seccomp\n');
    expect(parseCapabilities(noSeccomp)).toMatchObject({ solo5Hvt: true, solo5Spt: false });
    // A tool list naming a tender is not the tender section: only @tenders counts.
    const wrongSection = raspberryPi.replace('@tools\n', '@tools\nsolo5-spt\n');
    expect(parseCapabilities(wrongSection).solo5Spt).toBe(false);
  });

  it('says in one sentence which tenders apps may use, or how the owner gets them', () => {
    const caps = parseCapabilities(raspberryPi);
    const none = tenderNote(caps, 'qemu');
    expect(none).toMatch(/^This device has no Solo5 tender \(solo5-hvt or solo5-spt\)/);
    expect(none).toContain('https://builds.robur.coop');
    expect(none.split('. ')).toHaveLength(1);
    expect(tenderNote({ ...caps, solo5Spt: true }, 'qemu')).toMatch(/spt tender run here/);
    expect(tenderNote({ ...caps, solo5Hvt: true, kvmDevice: true }, 'kvm')).toMatch(
      /hvt tender run here/,
    );
    // hvt without /dev/kvm is no runtime: the owner learns why, and what would run instead.
    expect(tenderNote({ ...caps, solo5Hvt: true, kvmDevice: false }, 'qemu')).toMatch(
      /needs \/dev\/kvm.*spt/,
    );
  });

  it('finds a tender on the PATH and in /usr/local/bin, and nothing that is not a program', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-tenders-'));
    try {
      writeFileSync(join(dir, 'solo5-spt'), '#!/bin/sh\n', { mode: 0o755 });
      writeFileSync(join(dir, 'solo5-hvt'), 'not a program\n', { mode: 0o644 });
      const run = spawnSync('sh', ['-c', capabilitiesScript], {
        env: { PATH: `${dir}:/usr/bin:/bin` },
        encoding: 'utf8',
      });
      const tenders = run.stdout.split('@tenders\n')[1]?.split('@')[0] ?? '';
      expect(tenders.split('\n')).toContain('solo5-spt');
      // solo5-hvt counts only if a real one is installed where Hearth also looks.
      const hvtElsewhere = ['/usr/bin/solo5-hvt', '/usr/local/bin/solo5-hvt'].some(existsSync);
      expect(tenders.split('\n').includes('solo5-hvt')).toBe(hvtElsewhere);
      expect(capabilitiesScript).toContain('/usr/local/bin/$t');
      expect(capabilitiesScript).toContain('/usr/bin/$t');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // An SSH session of a plain user on Debian has PATH=/usr/local/bin:/usr/bin:/bin:/usr/games,
  // while avahi-daemon and visudo live in /usr/sbin.
  it.runIf(existsSync('/usr/sbin/avahi-daemon') || existsSync('/usr/sbin/visudo'))(
    "finds the tools in /usr/sbin that a plain user's PATH leaves out",
    () => {
      const run = spawnSync('sh', ['-c', capabilitiesScript], {
        env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/games' },
        encoding: 'utf8',
      });
      const caps = parseCapabilities(run.stdout);
      if (existsSync('/usr/sbin/avahi-daemon')) expect(caps.avahi).toBe(true);
      expect(run.stdout.split('@tools')[1]).toContain(
        existsSync('/usr/sbin/visudo') ? 'visudo' : '',
      );
    },
  );
});
