import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  appUnitTemplate,
  avahiService,
  deviceJson,
  parseDeviceJson,
  sudoersDropIn,
  updateRecoveryUnitTemplate,
  xenUnitDropIn,
  xenUnitDropInPath,
} from './device-files';
import { deviceLayout as paths } from '../device/layout';
import { unitSandbox } from '../device/unit-sandbox';

function withFile<T>(name: string, content: string, use: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-files-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, content);
    return use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function toolExists(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
}

describe('files Hearth puts on a device', () => {
  it('writes the same bytes every time (so a second run changes nothing)', () => {
    expect(sudoersDropIn()).toBe(sudoersDropIn());
    const a = deviceJson({
      id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      name: 'Living-room Pi',
      provisionedAt: '2026-11-27T10:00:00.000Z',
      hearthVersion: '0.1.0',
    });
    expect(parseDeviceJson(a)).toEqual({
      id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      name: 'Living-room Pi',
      provisionedAt: '2026-11-27T10:00:00.000Z',
      hearthVersion: '0.1.0',
    });
  });

  it('does not trust a device.json it did not write', () => {
    expect(parseDeviceJson('{"id":"../../etc"}')).toBeNull();
    expect(parseDeviceJson('garbage')).toBeNull();
  });

  it('escapes TXT values in the avahi service file', () => {
    const xml = avahiService({ id: 'x', arch: 'x86_64', hv: 'qemu', v: '1<script>' });
    expect(xml).toContain('<type>_hearth._tcp</type>');
    expect(xml).not.toContain('<script>');
  });

  // systemd.unit(5): "foo@.service.d/*.conf" applies to every instance of the template, and a
  // later assignment of a single-value setting such as User= replaces the unit's own.
  it('makes Xen app units run as root through a drop-in beside the template', () => {
    expect(xenUnitDropInPath).toBe(`${paths.unitTemplate}.d/xen.conf`);
    expect(xenUnitDropIn()).toBe(xenUnitDropIn());
    const settings = xenUnitDropIn()
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    expect(settings.slice(0, 3)).toEqual(['[Service]', 'User=root', 'Group=root']);
    expect(appUnitTemplate()).toContain('\nUser=hearth\n');
  });

  it('sandboxes every app in its own folder, and relaxes for Xen only what xl needs', () => {
    const unit = settingsOf(appUnitTemplate());
    expect(unit).toEqual(
      expect.arrayContaining([
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'PrivateTmp=yes',
        'ProtectKernelTunables=yes',
        'ProtectKernelModules=yes',
        'ProtectControlGroups=yes',
        'RestrictSUIDSGID=yes',
      ]),
    );
    // The one place an app may write: its own folder (%i is the app id).
    expect(unit.filter((l) => l.startsWith('ReadWritePaths='))).toEqual([
      'ReadWritePaths=/var/lib/hearth/apps/%i',
    ]);
    // Anything that would take /dev/kvm away from QEMU stays out.
    expect(
      unit.some((l) => /^(PrivateDevices|DeviceAllow|DevicePolicy|ProtectClock)=/.test(l)),
    ).toBe(false);
    // The root agent announces the app from outside the sandbox ("+"), failures ignored ("-").
    expect(unit).toContain('ExecStartPost=-+/usr/local/lib/hearth/agent advertise %i');
    expect(unit).toContain('ExecStopPost=-+/usr/local/lib/hearth/agent withdraw %i');
    // An update cut short by a power loss is settled before the app starts, by a unit of its
    // own that every start pulls in and waits for ("Wants": it never keeps the app from starting).
    expect(unit).toContain('Requires=hearth-update-recover@%i.service');
    expect(unit).toContain('After=hearth-update-recover@%i.service');
    expect(unit.some((l) => l.includes('update-step'))).toBe(false);

    const xen = settingsOf(xenUnitDropIn());
    expect(xen).toContain('ProtectKernelModules=no');
    expect(xen).toContain('RestrictAddressFamilies=');
    expect(xen.find((l) => l.startsWith('ReadWritePaths='))).toContain('-/var/lib/xen');
    // Still never its owner's home, and never new privileges.
    expect(xen.some((l) => /^(ProtectHome|NoNewPrivileges|ProtectSystem)=/.test(l))).toBe(false);
  });

  it('settles an interrupted update as the hearth account, in the same sandbox, only when there is one', () => {
    const unit = settingsOf(updateRecoveryUnitTemplate());
    // systemd looks for the transaction's state file itself: no process at all without one.
    expect(unit).toContain('ConditionPathExists=/var/lib/hearth/apps/%i/state/update');
    expect(unit).toEqual(
      expect.arrayContaining([
        'Type=oneshot',
        'User=hearth',
        'ExecStart=/usr/local/lib/hearth/update-step recover %i',
      ]),
    );
    // Never root, never outside the app's own folder: the app's sandbox, setting for setting.
    expect(unit.some((l) => l.startsWith('ExecStart=+') || l.startsWith('ExecStart=!'))).toBe(
      false,
    );
    const app = settingsOf(appUnitTemplate());
    for (const line of settingsOf(unitSandbox('/var/lib/hearth/apps/%i'))) {
      expect(unit).toContain(line);
      expect(app).toContain(line);
    }
  });

  // systemd-analyze verify reads the unit as systemd would, without running anything.
  it.runIf(toolExists('systemd-analyze'))('systemd accepts every setting of the units', () => {
    withFile('hearth-app@.service', appUnitTemplate(), (path) => {
      const dir = join(path, '..');
      const instance = join(dir, 'hearth-app@counter.service');
      writeFileSync(instance, appUnitTemplate());
      const recovery = join(dir, 'hearth-update-recover@counter.service');
      writeFileSync(recovery, updateRecoveryUnitTemplate());
      for (const unit of [instance, recovery]) {
        const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
        // Missing executables are expected here (no agent, no app); unknown settings are not.
        expect(result.stderr).not.toMatch(/Unknown key|Unknown section|Failed to parse/i);
      }
    });
  });

  it('gives the hearth account one root command, the agent, with no wildcard', () => {
    const rules = sudoersDropIn()
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    expect(rules).toEqual(['hearth ALL=(root) NOPASSWD: /usr/local/lib/hearth/agent']);
    expect(sudoersDropIn()).not.toMatch(/[*?[\]^$]/);
  });

  // visudo is what the device itself uses to judge the drop-in before it is put in place.
  it.runIf(toolExists('visudo'))('the sudoers drop-in passes visudo -c', () => {
    withFile('hearth', sudoersDropIn(), (path) => {
      expect(execFileSync('visudo', ['-cf', path]).toString()).toContain('parsed OK');
    });
  });

  // sudo -l -U lists what an account may run as root, as the device's own sudo reads the rules.
  it.runIf(process.getuid?.() === 0 && toolExists('visudo') && toolExists('useradd'))(
    "sudo lists exactly one command for the account: Hearth's agent",
    () => {
      const user = 'hearthsudotest';
      execFileSync('sh', ['-c', `id ${user} >/dev/null 2>&1 || useradd -M ${user}`]);
      const dropIn = `/etc/sudoers.d/zz-${user}`;
      // sudo -l judges only commands that exist: a stand-in for the agent, outside /usr/local.
      const dir = mkdtempSync(join(tmpdir(), 'hearth-sudo-'));
      const agent = join(dir, 'agent');
      writeFileSync(agent, '#!/bin/sh\n', { mode: 0o755 });
      chmodSync(dir, 0o755);
      try {
        const rules = sudoersDropIn()
          .replaceAll('hearth ALL=', `${user} ALL=`)
          .replaceAll(paths.agent, agent);
        writeFileSync(dropIn, rules, { mode: 0o440 });
        const listed = execFileSync('sudo', ['-n', '-l', '-U', user], { encoding: 'utf8' });
        const commands = listed
          .slice(listed.indexOf('may run the following commands'))
          .split('\n')
          .slice(1)
          .map((l) => l.trim())
          .filter(Boolean);
        expect(commands).toEqual([`(root) NOPASSWD: ${agent}`]);
        const may = (...command: string[]) =>
          spawnSync('sudo', ['-n', '-l', '-U', user, ...command], { stdio: 'pipe' }).status === 0;
        expect(may(agent, 'start', 'counter')).toBe(true);
        expect(may('/usr/bin/systemctl', 'start', 'hearth-app@counter')).toBe(false);
        expect(may('/usr/bin/cat', '/etc/shadow')).toBe(false);
      } finally {
        rmSync(dropIn, { force: true });
        rmSync(dir, { recursive: true, force: true });
        execFileSync('userdel', [user]);
      }
    },
  );
});

function settingsOf(unit: string): string[] {
  return unit.split('\n').filter((line) => line && !line.startsWith('#') && !line.startsWith('['));
}
