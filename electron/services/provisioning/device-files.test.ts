import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  advertiseFile,
  advertiseHelper,
  appUnitTemplate,
  avahiService,
  deviceJson,
  parseDeviceJson,
  sudoHasRegex,
  sudoersDropIn,
  xenUnitDropIn,
  xenUnitDropInPath,
} from './device-files';
import { deviceLayout as paths } from '../device/layout';

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
    expect(settings).toEqual(['[Service]', 'User=root', 'Group=root']);
    expect(appUnitTemplate()).toContain('\nUser=hearth\n');
  });

  // visudo is what the device itself uses to judge the drop-in before it is put in place.
  it.runIf(toolExists('visudo'))('the sudoers drop-in passes visudo -c, in both forms', () => {
    for (const regex of [true, false])
      withFile('hearth', sudoersDropIn(regex), (path) => {
        expect(execFileSync('visudo', ['-cf', path]).toString()).toContain('parsed OK');
      });
  });

  it('uses regular expressions only where sudo understands them (1.9.10 and later)', () => {
    expect(sudoHasRegex('Sudo version 1.9.13p3\nSudoers policy plugin version 1.9.13p3')).toBe(
      true,
    );
    expect(sudoHasRegex('Sudo version 1.9.10')).toBe(true);
    expect(sudoHasRegex('Sudo version 1.9.5p2')).toBe(false);
    expect(sudoHasRegex('Sudo version 1.8.27')).toBe(false);
    expect(sudoHasRegex('sudo: command not found')).toBe(false);
    expect(sudoersDropIn(false)).toContain('/usr/bin/systemctl start hearth-app@*');
  });

  // sudo -l judges a command line against the rules without running anything: the regex
  // form lets the hearth account manage one app unit at a time and nothing more.
  it.runIf(process.getuid?.() === 0 && toolExists('visudo') && toolExists('useradd'))(
    'the rules allow one Hearth unit per command and refuse anything smuggled after it',
    () => {
      const user = 'hearthsudotest';
      execFileSync('sh', ['-c', `id ${user} >/dev/null 2>&1 || useradd -M ${user}`]);
      const dropIn = `/etc/sudoers.d/zz-${user}`;
      try {
        writeFileSync(dropIn, sudoersDropIn(true).replaceAll('hearth ALL=', `${user} ALL=`), {
          mode: 0o440,
        });
        const may = (...args: string[]) => {
          try {
            execFileSync('sudo', ['-n', '-l', '-U', user, '/usr/bin/systemctl', ...args], {
              stdio: 'pipe',
            });
            return true;
          } catch {
            return false;
          }
        };
        expect(may('start', 'hearth-app@counter')).toBe(true);
        expect(may('reset-failed', 'hearth-app@visits-2')).toBe(true);
        expect(may('start', 'hearth-app@counter', 'ssh.service')).toBe(false);
        expect(may('start', 'hearth-app@Counter')).toBe(false);
        expect(may('start', 'ssh.service')).toBe(false);
        expect(may('daemon-reload')).toBe(false);
      } finally {
        rmSync(dropIn, { force: true });
        execFileSync('userdel', [user]);
      }
    },
  );
});

// The helper runs as root on the device and reads what the hearth account wrote: run the real
// script against hostile input, with its folders moved into a scratch directory.
describe.runIf(process.getuid?.() === 0 && toolExists('runuser'))('the advertise helper', () => {
  function advertise(content: string | null, ...args: string[]) {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-advertise-'));
    try {
      const appsDir = join(dir, 'apps');
      const servicesDir = join(dir, 'services');
      mkdirSync(join(appsDir, 'notes'), { recursive: true });
      mkdirSync(servicesDir);
      chmodSync(dir, 0o755);
      chmodSync(appsDir, 0o755);
      chmodSync(join(appsDir, 'notes'), 0o755);
      if (content !== null)
        writeFileSync(join(appsDir, 'notes', 'advertise'), content, { mode: 0o644 });
      const script = join(dir, 'advertise');
      writeFileSync(script, advertiseHelper({ appsDir, servicesDir, user: 'nobody' }), {
        mode: 0o755,
      });
      let code = 0;
      try {
        execFileSync(script, args.length ? args : ['notes'], { stdio: 'pipe' });
      } catch (error) {
        code = (error as { status: number }).status;
      }
      const files = readdirSync(servicesDir);
      const out = join(servicesDir, 'hearth-app-notes.service');
      return {
        code,
        files,
        xml: files.includes('hearth-app-notes.service') ? readFileSync(out, 'utf8') : null,
        servicesDir,
        script,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('publishes each declared service on its device port, named after the app and the device', () => {
    const { code, xml, files } = advertise(
      advertiseFile('Visit counter', [
        { service: '_http._tcp', host: 8080 },
        { host: 9000 },
        { service: '_caldav._tcp', host: 5232 },
      ]),
    );
    expect(code).toBe(0);
    expect(files).toEqual(['hearth-app-notes.service']);
    expect(xml).toContain('<name replace-wildcards="yes">Visit counter on %h</name>');
    expect(xml).toContain('<service><type>_http._tcp</type><port>8080</port></service>');
    expect(xml).toContain('<service><type>_caldav._tcp</type><port>5232</port></service>');
    expect(xml).not.toContain('9000');
  });

  it('drops anything that is not a service type and a port, and escapes nothing into the XML', () => {
    const { xml } = advertise(
      [
        'name <b>Evil</b> & "quoted" </name><service>',
        'service _http._tcp 8080</port><type>_ssh._tcp',
        'service _x._tcp 99999',
        'service _ok._tcp 0',
        'service ../../etc._tcp 80',
        'service _web._tcp 8081',
      ].join('\n'),
    );
    const name = /<name replace-wildcards="yes">(.*) on %h<\/name>/.exec(xml ?? '')?.[1];
    expect(name).toMatch(/^bEvilb +quoted nameservice$/);
    expect(xml?.match(/<service>/g)).toHaveLength(1);
    expect(xml).toContain('<type>_web._tcp</type><port>8081</port>');
  });

  it('writes nothing when the app publishes no service, and refuses a bad app id', () => {
    expect(advertise('name Notes\n').files).toEqual([]);
    expect(advertise(null).files).toEqual([]);
    expect(advertise('service _http._tcp 80\n', '../x').code).toBe(2);
    expect(advertise('service _http._tcp 80\n', '-rf').code).toBe(2);
  });

  it('reads the app folder as the hearth account: a symlink to a root-only file gives nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-advertise-secret-'));
    try {
      const secret = join(dir, 'secret');
      writeFileSync(secret, 'service _leak._tcp 1234\n', { mode: 0o600 });
      const appsDir = join(dir, 'apps');
      const servicesDir = join(dir, 'services');
      mkdirSync(join(appsDir, 'notes'), { recursive: true });
      mkdirSync(servicesDir);
      for (const d of [dir, appsDir, join(appsDir, 'notes')]) chmodSync(d, 0o755);
      symlinkSync(secret, join(appsDir, 'notes', 'advertise'));
      const script = join(dir, 'advertise');
      writeFileSync(script, advertiseHelper({ appsDir, servicesDir, user: 'nobody' }), {
        mode: 0o755,
      });
      execFileSync(script, ['notes']);
      expect(readdirSync(servicesDir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('withdraws the service when the app stops', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-advertise-stop-'));
    try {
      const servicesDir = join(dir, 'services');
      mkdirSync(servicesDir);
      writeFileSync(join(servicesDir, 'hearth-app-notes.service'), '<x/>');
      writeFileSync(join(servicesDir, 'other.service'), '<x/>');
      const script = join(dir, 'advertise');
      writeFileSync(
        script,
        advertiseHelper({ appsDir: join(dir, 'apps'), servicesDir, user: 'nobody' }),
        { mode: 0o755 },
      );
      execFileSync(script, ['--withdraw', 'notes']);
      expect(readdirSync(servicesDir)).toEqual(['other.service']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
