// Provisioning against hostile or broken devices (an in-process ssh2.Server): every case
// ends in a clear error on the right step, the process stays up, and nothing is saved on
// the laptop. The happy path runs against the lab's real devices (e2e/specs/first-device).
import { createHash, randomBytes } from 'node:crypto';
import type { ServerChannel } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceRecord, TaskSnapshot } from '../../../shared/model';
import { connectSsh } from '../ssh/ssh-connect';
import { FakeSshDevice } from '../ssh/fake-ssh-device';
import { TaskManager } from '../tasks/task-manager';
import { deviceLayout as paths } from '../device/layout';
import { xenUnitDropIn, xenUnitDropInPath } from './device-files';
import { provision, provisioningSteps } from './provisioner';
import { restartXenconsoledScript, withGuestConsoleLog, xenConsoleFlavourScript } from './xen-host';

const debianAnswer = `@arch\nx86_64\n@os\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n@xen\n@kvm\n@tools\nqemu-system-x86_64\nsystemctl\n@mem\nMemTotal: 1000000 kB\n@disk\n/dev/sda1 100000000 1000000 90000000 2% /\n@end\n`;

let device: FakeSshDevice | null = null;
afterEach(async () => {
  await device?.stop();
  device = null;
});

function answer(channel: ServerChannel, stdout: string | Buffer, code = 0): void {
  channel.write(stdout);
  channel.exit(code);
  channel.end();
}

async function run(
  onCommand: (command: string, channel: ServerChannel, device: FakeSshDevice) => void,
  overrides: { fingerprint?: string; password?: string } = {},
) {
  device = await FakeSshDevice.start({ username: 'pi', password: 'raspberry', onCommand });
  const published: TaskSnapshot[] = [];
  const saved: DeviceRecord[] = [];
  const tasks = new TaskManager({
    clock: { now: () => Date.now() },
    publish: (s) => published.push(s),
  });
  const job = provision(
    {
      tasks,
      hearthVersion: '0.1.0',
      installKey: () =>
        Promise.resolve({ publicKey: 'ssh-ed25519 AAAA test', privateKey: 'unused' }),
      saveDevice: (record) => {
        saved.push(record);
        return Promise.resolve();
      },
      connect: (r) =>
        connectSsh({
          host: '127.0.0.1',
          port: r.port,
          username: r.username,
          auth: r.auth,
          hostKey: { kind: 'pinned', fingerprint: r.fingerprint },
          signal: r.signal,
          readyTimeoutMs: 5_000,
        }),
    },
    {
      address: '127.0.0.1',
      port: device.port,
      fingerprint: overrides.fingerprint ?? device.hostKeyFingerprint,
      username: 'pi',
      password: overrides.password ?? 'raspberry',
    },
  );
  const error = await job.done.then(
    () => null,
    (e: unknown) => e,
  );
  const last = published.at(-1)!;
  const failedStep = last.steps.find((s) => s.state === 'failed');
  return { error, last, failedStep, saved, device };
}

describe('provisioning a device that misbehaves', () => {
  it('drops the connection in the middle of a step', async () => {
    const { error, last, failedStep, saved } = await run((command, channel, dev) => {
      if (command.includes('@arch')) dev.dropConnections();
      else answer(channel, '');
    });
    expect(error).toMatchObject({ code: 'CONNECTION_LOST' });
    expect(last.state).toBe('failed');
    expect(failedStep).toMatchObject({
      label: provisioningSteps[1],
      note: expect.stringContaining('connection to the device was lost') as string,
    });
    expect(saved).toEqual([]);
  });

  it('answers with garbage', async () => {
    const { error, failedStep, saved } = await run((command, channel) =>
      answer(channel, command.includes('@arch') ? randomBytes(4096) : ''),
    );
    expect(error).toMatchObject({ code: 'DEVICE_GARBLED' });
    expect(failedStep?.note).toContain('could not understand');
    expect(saved).toEqual([]);
  });

  it('answers with far more than any real answer, without Hearth keeping it all', async () => {
    const { error, saved } = await run((command, channel) => {
      if (!command.includes('@arch')) return answer(channel, '');
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let sent = 0;
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && channel.write(chunk)) sent += chunk.length;
        if (sent < 64 * 1024 * 1024) channel.once('drain', pump);
      };
      channel.on('close', () => (sent = Number.POSITIVE_INFINITY));
      pump();
    });
    expect(error).toMatchObject({ code: 'DEVICE_GARBLED' });
    expect(saved).toEqual([]);
  });

  it('is not Debian', async () => {
    const { error, failedStep } = await run((command, channel) =>
      answer(
        channel,
        command.includes('@arch')
          ? debianAnswer
              .replace('ID=debian', 'ID=fedora')
              .replace('Debian GNU/Linux 12 (bookworm)', 'Fedora Linux 41')
          : '',
      ),
    );
    expect(error).toMatchObject({ code: 'NOT_DEBIAN' });
    expect(failedStep?.note).toContain('This one runs Fedora Linux 41');
  });

  it('is nearly out of space', async () => {
    const { error, failedStep } = await run((command, channel) =>
      answer(
        channel,
        command.includes('@arch')
          ? debianAnswer.replace('100000000 1000000 90000000', '100000000 99900000 100000')
          : '',
      ),
    );
    expect(error).toMatchObject({ code: 'DISK_NEARLY_FULL' });
    expect(failedStep).toMatchObject({
      label: 'Check what this device is',
      note: expect.stringContaining('nearly out of storage space') as string,
    });
  });

  it('has no way to run apps, and the owner has not allowed installing one', async () => {
    const {
      error,
      failedStep,
      device: dev,
    } = await run((command, channel) => {
      if (command.includes('@arch'))
        return answer(channel, debianAnswer.replace('qemu-system-x86_64\n', ''));
      if (command.includes('id -u')) return answer(channel, '0\n');
      answer(channel, '');
    });
    expect(error).toMatchObject({ code: 'NO_VIRTUALIZATION' });
    expect(failedStep).toMatchObject({
      label: 'Make sure apps can run here',
      note: expect.stringContaining('Allow Hearth to install it') as string,
    });
    expect(dev.commands.some((c) => c.includes('apt-get'))).toBe(false);
  });

  it('refuses administrator rights', async () => {
    const { error, failedStep } = await run((command, channel) => {
      if (command.includes('@arch')) return answer(channel, debianAnswer);
      if (command.includes('id -u')) return answer(channel, '1000\n');
      if (command.includes('sudo')) {
        channel.stderr.write('pi is not in the sudoers file.  This incident will be reported.\n');
        return answer(channel, '', 1);
      }
      answer(channel, '');
    });
    expect(error).toMatchObject({ code: 'SUDO_REFUSED' });
    expect(failedStep?.label).toBe('Check administrator rights');
  });

  it('offers a different host key than the owner confirmed: refused before signing in', async () => {
    const other = await FakeSshDevice.start({ username: 'pi', password: 'raspberry' });
    const confirmed = other.hostKeyFingerprint;
    await other.stop();
    const {
      error,
      failedStep,
      device: dev,
    } = await run((_c, channel) => answer(channel, ''), { fingerprint: confirmed });
    expect(error).toMatchObject({ code: 'HOST_KEY_CHANGED' });
    expect(failedStep?.label).toBe('Connect securely');
    expect(dev.authAttempts).toEqual([]);
  });

  it('does not accept the password', async () => {
    const { error, failedStep, saved } = await run((_c, channel) => answer(channel, ''), {
      password: 'wrong',
    });
    expect(error).toMatchObject({ code: 'WRONG_PASSWORD' });
    expect(failedStep?.note).toContain('did not accept that user name and password');
    expect(saved).toEqual([]);
  });
});

/**
 * Just enough of a Debian device for a whole provisioning run: it keeps root's files, folders
 * and the hearth account between runs, applies RemoteShell's atomic writes (the upload arrives
 * over SFTP, the install/mv is applied here) and counts the service restarts. Every command it
 * does not know is recorded, so a test also proves the model covered the whole run.
 */
class DeviceModel {
  readonly files = new Map<string, { content: string; mode: string; owner: string }>();
  readonly dirs = new Map<string, string>();
  hearthUser = false;
  reloads = 0;
  consoleRestarts = 0;
  writes: string[] = [];
  unknown: string[] = [];

  constructor(
    readonly xen: 'debian' | 'upstream' | null,
    readonly capabilities: string,
  ) {}

  answer(command: string, channel: ServerChannel, device: FakeSshDevice): void {
    const sh = /^sh -c (?:'(.*)'|(\S+))$/s.exec(command);
    const script = sh?.[2] ?? sh?.[1]?.replaceAll(`'\\''`, "'") ?? command;
    const reply = (stdout: string, code = 0) => answer(channel, stdout, code);
    // The path-like words of a command, quoted or bare.
    const quoted = (s: string) =>
      [...s.matchAll(/'([^']*)'|(?<=\s)(\/[^\s'|;&]*)/g)].map((m) => m[1] ?? m[2] ?? '');
    if (script.includes('@arch')) return reply(this.capabilities);
    if (script === 'id -u') return reply('0\n');
    if (script === 'id -u hearth')
      return reply(this.hearthUser ? '999\n' : '', this.hearthUser ? 0 : 1);
    if (script.startsWith('useradd ')) return ((this.hearthUser = true), reply(''));
    if (script === 'id -nG hearth') return reply('hearth\n');
    if (script === 'getent group kvm') return reply('', 2);
    if (script === 'hostname') return reply('dom0\n');
    if (script.startsWith("stat -c '%a %U' ")) {
      const names = script.slice(16).replace(' 2>/dev/null', '').split(' ');
      return reply(
        names
          .map((d) => this.dirs.get(d) ?? '')
          .filter(Boolean)
          .join('\n'),
      );
    }
    if (script.startsWith('install -d ')) {
      for (const part of script.split(' && ')) {
        const m = /^install -d -m (\d+) -o (\S+) -g \S+ (.+)$/.exec(part);
        for (const d of m?.[3]?.split(' ') ?? []) this.dirs.set(d, `${m?.[1]} ${m?.[2]}`);
      }
      return reply('');
    }
    if (script.startsWith('test -f ') && script.includes('sha256sum')) {
      const file = this.files.get(quoted(script)[0] ?? '');
      if (!file) return reply('', 1);
      const hash = createHash('sha256').update(file.content).digest('hex');
      return reply(`${hash}\n${file.mode.replace(/^0/, '')} ${file.owner}\n`);
    }
    // shellQuote leaves plain words bare and quotes the rest.
    const install =
      /install -D -m (\d+) -o '?([^' ]+)'? -g '?([^' ]+)'? '?([^' ]+)'? '?[^' ]+'? && mv -f '?[^' ]+'? '?([^' ;]+)'?/.exec(
        script,
      );
    if (install) {
      const [, mode = '', user, group, upload = '', path = ''] = install;
      const data = device.files.get(upload)?.data.toString('utf8') ?? '';
      this.files.set(path, { content: data, mode, owner: `${user}:${group}` });
      this.writes.push(path);
      return reply('');
    }
    if (script.startsWith('cat ')) {
      const file = this.files.get(quoted(script)[0] ?? script.split(' ')[1] ?? '');
      return file ? reply(file.content) : reply('', 1);
    }
    if (script.startsWith("stat -c '%a %U:%G' -- ")) {
      const file = this.files.get(quoted(script)[1] ?? '');
      return file ? reply(`${file.mode.replace(/^0/, '')} ${file.owner}\n`) : reply('', 1);
    }
    if (script === 'systemctl daemon-reload') return ((this.reloads += 1), reply(''));
    if (script === xenConsoleFlavourScript) return reply(`${this.xen ?? 'unknown'}\n`);
    if (this.xen && script === restartXenconsoledScript(this.xen))
      return ((this.consoleRestarts += 1), reply(''));
    if (script.startsWith('test -e '))
      return reply('', this.files.has(quoted(script)[0] ?? '') ? 0 : 1);
    if (script.startsWith('rm -f ')) {
      this.files.delete(quoted(script)[0] ?? '');
      this.writes.push(`rm ${quoted(script)[0]}`);
      return reply('');
    }
    if (command.startsWith('sudo -n -l ')) return reply('/usr/bin/systemctl\n');
    if (script === 'sudo -V')
      return reply('Sudo version 1.9.13p3\nSudoers policy plugin version 1.9.13p3\n');
    this.unknown.push(script);
    reply('', 127);
  }
}

const dom0Answer = debianAnswer.replace('@xen\n', '@xen\ncontrol_d\nxl\n');
const debianXenDefault =
  '# Dom0 UUID\n#XEN_DOM0_UUID=00000000-0000-0000-0000-000000000000\nXENSTORED_ARGS=\n';

async function provisionModel(model: DeviceModel) {
  // One device for all runs of a test: the port it listens on is part of what Hearth writes.
  device ??= await FakeSshDevice.start({
    username: 'pi',
    password: 'raspberry',
    onCommand: (command, channel, dev) => model.answer(command, channel, dev),
  });
  const published: TaskSnapshot[] = [];
  const tasks = new TaskManager({
    clock: { now: () => Date.now() },
    publish: (s) => published.push(s),
  });
  const fake = device;
  const job = provision(
    {
      tasks,
      hearthVersion: '0.1.0',
      installKey: () => Promise.resolve({ publicKey: 'ssh-ed25519 AAAA test', privateKey: 'x' }),
      saveDevice: () => Promise.resolve(),
      // The fake has one account; signing in with the new key is covered by the lab's e2e run.
      connect: (r) =>
        connectSsh({
          host: '127.0.0.1',
          port: r.port,
          username: 'pi',
          auth: { password: 'raspberry' },
          hostKey: { kind: 'pinned', fingerprint: r.fingerprint },
          signal: r.signal,
          readyTimeoutMs: 5_000,
        }),
    },
    {
      address: '127.0.0.1',
      port: fake.port,
      fingerprint: fake.hostKeyFingerprint,
      username: 'pi',
      password: 'raspberry',
    },
  );
  const record = await job.done;
  const steps = new Map(published.at(-1)!.steps.map((s) => [s.label, s]));
  return { record, steps };
}

// Each run makes some fifty SSH round trips to the in-process device.
describe('provisioning a Xen dom0', { timeout: 30_000 }, () => {
  it('makes apps run as root and turns on guest console logs, once', async () => {
    const model = new DeviceModel('debian', dom0Answer);
    model.files.set('/etc/default/xen', {
      content: debianXenDefault,
      mode: '0644',
      owner: 'root:root',
    });

    const first = await provisionModel(model);
    expect(model.unknown).toEqual([]);
    expect(first.record.hypervisor).toBe('xen');
    expect(model.files.get(xenUnitDropInPath)).toEqual({
      content: xenUnitDropIn(),
      mode: '0644',
      owner: 'root:root',
    });
    const xenDefault = model.files.get('/etc/default/xen');
    expect(xenDefault?.content).toBe(withGuestConsoleLog(debianXenDefault, 'debian'));
    expect(xenDefault?.content.startsWith(debianXenDefault)).toBe(true);
    expect(model.consoleRestarts).toBe(1);
    expect(model.reloads).toBe(1);
    expect(first.steps.get('Make sure apps can run here')).toMatchObject({
      state: 'done',
      note: expect.stringContaining('Xen keeps what each app prints') as string,
    });
    expect(first.steps.get("Set up Hearth's folders and service")?.note).toContain(
      'full administrator rights',
    );

    const writes = model.writes.length;
    const second = await provisionModel(model);
    expect(model.unknown).toEqual([]);
    expect(model.writes.slice(writes)).toEqual([]);
    expect(model.consoleRestarts).toBe(1);
    expect(model.reloads).toBe(1);
    for (const label of provisioningSteps.slice(3, -1))
      expect([label, second.steps.get(label)?.state]).toEqual([label, 'already-done']);
  });

  it("uses xencommons and XENCONSOLED_TRACE where Xen's own systemd units run xenconsoled", async () => {
    const model = new DeviceModel('upstream', dom0Answer);
    await provisionModel(model);
    expect(model.unknown).toEqual([]);
    expect(model.files.get('/etc/default/xencommons')?.content).toContain(
      '\nXENCONSOLED_TRACE=guest\n',
    );
    expect(model.files.has('/etc/default/xen')).toBe(false);
    expect(model.consoleRestarts).toBe(1);
  });

  it('forgets an old KVM failure when the device is prepared again, and only once', async () => {
    const model = new DeviceModel(null, debianAnswer);
    model.files.set(paths.kvmUnusable, { content: '', mode: '0644', owner: 'hearth:hearth' });
    const first = await provisionModel(model);
    expect(model.unknown).toEqual([]);
    expect(model.files.has(paths.kvmUnusable)).toBe(false);
    expect(first.steps.get('Make sure apps can run here')).toMatchObject({
      state: 'done',
      note: expect.stringContaining('try KVM again') as string,
    });
    const second = await provisionModel(model);
    expect(second.steps.get('Make sure apps can run here')?.state).toBe('already-done');
  });

  it('gives a device that is not a Xen host no root drop-in, and removes one left behind', async () => {
    const model = new DeviceModel(null, debianAnswer);
    await provisionModel(model);
    expect(model.unknown).toEqual([]);
    expect(model.files.has(xenUnitDropInPath)).toBe(false);
    expect(model.writes.some((w) => w.includes('xen'))).toBe(false);
    const reloads = model.reloads;

    model.files.set(xenUnitDropInPath, {
      content: xenUnitDropIn(),
      mode: '0644',
      owner: 'root:root',
    });
    const again = await provisionModel(model);
    expect(model.files.has(xenUnitDropInPath)).toBe(false);
    expect(model.reloads).toBe(reloads + 1);
    expect(again.steps.get("Set up Hearth's folders and service")?.state).toBe('done');
    expect(again.steps.get("Set up Hearth's folders and service")?.note).not.toContain(
      'administrator',
    );
  });
});
