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
import { agentScript } from '../device/agent-script';
import { updateStepScript } from '../device/update-step-script';
import {
  backupServiceTemplate,
  backupTimerTemplate,
  peerBackupScript,
  peerSshdDropIn,
} from '../device/peer-backups';
import {
  sudoersDropIn,
  xenBackupDropIn,
  xenBackupDropInPath,
  updateRecoveryUnitTemplate,
  xenUnitDropIn,
  xenUnitDropInPath,
} from './device-files';
import { provision, provisioningSteps } from './provisioner';
import { restartXenconsoledScript, xenConsoleFlavourScript } from '../device/prepare-commands';
import { withGuestConsoleLog } from './xen-host';
import { DEVICE_CONTRACT, contractFiles } from './device-contract';

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

  it('is Debian without systemd (sysvinit)', async () => {
    const { error, failedStep, saved } = await run((command, channel) =>
      answer(channel, command.includes('@arch') ? debianAnswer.replace('systemctl\n', '') : ''),
    );
    expect(error).toMatchObject({ code: 'NO_SYSTEMD' });
    expect(failedStep?.note).toContain('does not use systemd');
    expect(saved).toEqual([]);
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

  it('has solo5-spt but no nftables, and the owner has not allowed installing it', async () => {
    const { last, device: dev } = await run((command, channel) => {
      if (command.includes('@arch'))
        return answer(
          channel,
          debianAnswer.replace('@mem', '@tenders\nsolo5-spt\n@seccomp\npresent\n@mem'),
        );
      if (command.includes('id -u')) return answer(channel, '0\n');
      if (command.includes('command -v nft')) return answer(channel, '', 1);
      answer(channel, '');
    });
    const step = last.steps.find((s) => s.label === 'Make sure apps can run here');
    expect(step?.note).toContain("Apps built for Solo5's spt tender run here too");
    expect(step?.note).toContain('Their ports need nftables, which this device lacks');
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
 * Just enough of a Debian device for a whole provisioning run: it keeps root's files, folders,
 * links and the hearth account between runs, applies RemoteShell's atomic writes (the upload
 * arrives over SFTP, the install/mv is applied here) and the hearth account's own writes (run
 * through runuser, bytes on stdin), and counts the service restarts. Every command it does not
 * know is recorded, so a test also proves the model covered the whole run; so is every change
 * root made inside the hearth account's trees, which must never happen.
 */
class DeviceModel {
  readonly files = new Map<string, { content: string; mode: string; owner: string }>();
  readonly dirs = new Map<string, { mode: string; owner: string }>();
  /** Symlinks planted on the device: path → target. */
  readonly links = new Map<string, string>();
  /** The hearth account's passwd line, once there is one. */
  account: string | null = null;
  reloads = 0;
  consoleRestarts = 0;
  writes: string[] = [];
  /** Paths the hearth account itself wrote (runuser -u hearth). */
  hearthWrites: string[] = [];
  /** Changes root made inside hearth's trees: must stay empty. */
  rootInHearthTrees: string[] = [];
  unknown: string[] = [];
  sshdTests = 0;
  sudoList: string[] = [];

  constructor(
    readonly xen: 'debian' | 'upstream' | null,
    readonly capabilities: string,
  ) {}

  static hearthTrees = ['/home/hearth/', '/var/lib/hearth/'];

  #rootTouches(path: string, asHearth: boolean) {
    if (!asHearth && DeviceModel.hearthTrees.some((t) => path.startsWith(t)))
      this.rootInHearthTrees.push(path);
  }

  answer(command: string, channel: ServerChannel, device: FakeSshDevice): void {
    const unquote = (word: string) => word.replaceAll(`'\\''`, "'");
    const sh = /^sh -c (?:'(.*)'|(\S+))$/s.exec(command);
    let script = sh?.[2] ?? (sh?.[1] === undefined ? command : unquote(sh[1]));
    // An upload piped by root to the hearth account (ensureHearthFile).
    const piped = /^cat -- (\S+) \| (.*); status=\$\?; rm -f \S+; exit \$status$/s.exec(script);
    const stdin = piped ? (device.files.get(piped[1] ?? '')?.data.toString('utf8') ?? '') : null;
    if (piped) script = piped[2] ?? '';
    // File work inside hearth's trees comes as the hearth account.
    const runuser = /^runuser -u hearth -- sh -c (?:'(.*)'|(\S+))$/s.exec(script);
    const asHearth = runuser !== null;
    if (runuser) script = runuser[2] ?? unquote(runuser[1] ?? '');
    const reply = (stdout: string, code = 0) => answer(channel, stdout, code);
    // The path-like words of a command, quoted or bare.
    const quoted = (s: string) =>
      [...s.matchAll(/'([^']*)'|(?<=\s)(\/[^\s'|;&]*)/g)].map((m) => m[1] ?? m[2] ?? '');
    if (script.includes('@arch')) return reply(this.capabilities);
    if (script === 'id -u') return reply('0\n');
    if (script === 'getent passwd hearth')
      return this.account ? reply(`${this.account}\n`) : reply('', 2);
    if (script.startsWith('useradd ')) {
      this.account = 'hearth:x:999:999::/home/hearth:/bin/sh';
      this.dirs.set('/home/hearth', { mode: '755', owner: 'hearth' });
      return reply('');
    }
    if (script === 'id -nG hearth') return reply('hearth\n');
    if (script === 'getent group kvm') return reply('', 2);
    if (script === 'hostname') return reply('dom0\n');
    if (script.startsWith("stat -c '%n|%F|%U|%a' -- ")) {
      const names = quoted(script);
      return reply(
        names
          .map((name) => {
            if (this.links.has(name)) return `${name}|symbolic link|root|777`;
            const dir = this.dirs.get(name);
            if (dir) return `${name}|directory|${dir.owner}|${dir.mode}`;
            const file = this.files.get(name);
            if (file)
              return `${name}|regular file|${file.owner.split(':')[0]}|${file.mode.replace(/^0/, '')}`;
            return '';
          })
          .filter(Boolean)
          .join('\n'),
      );
    }
    if (script.startsWith('install -d ')) {
      const m = /^install -d -m (\d+) -o (\S+) -g \S+ (\S+)$/.exec(script);
      if (!m) return (this.unknown.push(script), reply('', 127));
      this.#rootTouches(m[3] ?? '', false);
      this.dirs.set(m[3] ?? '', { mode: m[1] ?? '', owner: m[2] ?? '' });
      this.writes.push(m[3] ?? '');
      return reply('');
    }
    const mkdir = /^mkdir -m 0?(\d+) -- (\S+)$/.exec(script);
    if (mkdir && asHearth) {
      this.dirs.set(mkdir[2] ?? '', { mode: mkdir[1] ?? '', owner: 'hearth' });
      this.hearthWrites.push(mkdir[2] ?? '');
      return reply('');
    }
    const chmod = /^chmod 0?(\d+) (\S+)$/.exec(script);
    if (chmod && asHearth) {
      const dir = this.dirs.get(chmod[2] ?? '');
      if (dir) dir.mode = chmod[1] ?? '';
      this.hearthWrites.push(chmod[2] ?? '');
      return reply('');
    }
    const hearthWrite =
      /^umask 077 && cat > (\S+)\.hearth-new && chmod (\d+) \S+ && mv -f \S+ (\S+)$/.exec(script);
    if (hearthWrite && asHearth && stdin !== null) {
      const [, , mode = '', path = ''] = hearthWrite;
      this.files.set(path, { content: stdin, mode, owner: 'hearth:hearth' });
      this.hearthWrites.push(path);
      return reply('');
    }
    if (script.startsWith('test -f ') && script.includes('sha256sum')) {
      const file = this.files.get(quoted(script)[0] ?? '');
      if (!file) return reply('', 1);
      const hash = createHash('sha256').update(file.content).digest('hex');
      const stat = asHearth
        ? file.mode.replace(/^0/, '')
        : `${file.mode.replace(/^0/, '')} ${file.owner}`;
      return reply(`${hash}\n${stat}\n`);
    }
    // shellQuote leaves plain words bare and quotes the rest.
    const install =
      /install -D -m (\d+) -o '?([^' ]+)'? -g '?([^' ]+)'? '?([^' ]+)'? '?[^' ]+'? && mv -f '?[^' ]+'? '?([^' ;]+)'?/.exec(
        script,
      );
    if (install) {
      const [, mode = '', user, group, upload = '', path = ''] = install;
      this.#rootTouches(path, false);
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
    if (script.startsWith('if sshd -t; then ')) return ((this.sshdTests += 1), reply(''));
    if (script.startsWith('test -d '))
      return reply('', this.dirs.has(quoted(script)[0] ?? '') ? 0 : 1);
    if (script.startsWith('test -e ')) {
      const path = quoted(script)[0] ?? '';
      return reply('', this.files.has(path) || this.links.has(path) ? 0 : 1);
    }
    if (script.startsWith('rm -f ')) {
      const path = quoted(script)[0] ?? '';
      this.#rootTouches(path, asHearth);
      this.files.delete(path);
      this.writes.push(`rm ${path}`);
      return reply('');
    }
    if (command.startsWith('sudo -n -l ')) {
      this.sudoList.push(command);
      return reply(`${paths.agent}\n`);
    }
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
    // The record says which Hearth's files it got; each file that contract digests is one
    // preparing wrote, as written (so a change to any of them asks the owner to prepare again).
    expect(first.record.preparedWith).toBe(DEVICE_CONTRACT);
    const written = [...model.files.values()].map((f) => f.content);
    // (This device has no sshd_config.d, so it got no rule for other devices' accounts.)
    for (const text of contractFiles().filter((t) => t !== peerSshdDropIn()))
      expect(written).toContain(text);
    expect(model.files.get(xenUnitDropInPath)).toEqual({
      content: xenUnitDropIn(),
      mode: '0644',
      owner: 'root:root',
    });
    // A backup to another device pauses a Xen app through the agent, so its unit may use sudo.
    expect(model.files.get(xenBackupDropInPath)).toEqual({
      content: xenBackupDropIn(),
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
    model.files.set(xenBackupDropInPath, {
      content: xenBackupDropIn(),
      mode: '0644',
      owner: 'root:root',
    });
    const again = await provisionModel(model);
    expect(model.files.has(xenUnitDropInPath)).toBe(false);
    expect(model.files.has(xenBackupDropInPath)).toBe(false);
    expect(model.reloads).toBe(reloads + 1);
    expect(again.steps.get("Set up Hearth's folders and service")?.state).toBe('done');
    expect(again.steps.get("Set up Hearth's folders and service")?.note).not.toContain(
      'administrator',
    );
  });
});

async function provisionFails(model: DeviceModel) {
  return provisionModel(model).then(
    () => null,
    (e: unknown) => e as { code: string; message: string },
  );
}

describe('preparing a device with the root agent', { timeout: 30_000 }, () => {
  it('installs the agent, one sudo rule, the key as hearth, and removes the old helper; once', async () => {
    const model = new DeviceModel(null, debianAnswer);
    model.files.set(paths.oldAdvertiseHelper, {
      content: '#!/bin/sh\n',
      mode: '0755',
      owner: 'root:root',
    });
    const first = await provisionModel(model);
    expect(model.unknown).toEqual([]);
    expect(model.files.get(paths.agent)).toEqual({
      content: agentScript(),
      mode: '0755',
      owner: 'root:root',
    });
    expect(model.files.get(paths.sudoers)?.content).toBe(sudoersDropIn());
    // The update script every app's unit runs before it starts (a crash mid-update settled).
    expect(model.files.get(paths.updateStep)).toEqual({
      content: updateStepScript(),
      mode: '0755',
      owner: 'root:root',
    });
    expect(model.files.has(paths.oldAdvertiseHelper)).toBe(false);
    // The unit that runs it before every start, in place before the app unit that wants it.
    expect(model.files.get(paths.updateRecoveryTemplate)).toEqual({
      content: updateRecoveryUnitTemplate(),
      mode: '0644',
      owner: 'root:root',
    });
    expect(model.writes.indexOf(paths.updateRecoveryTemplate)).toBeGreaterThan(-1);
    expect(model.writes.indexOf(paths.updateRecoveryTemplate)).toBeLessThan(
      model.writes.indexOf(paths.unitTemplate),
    );
    // The key, .ssh and the apps folder were made by the hearth account, never by root.
    expect(model.files.get(paths.authorizedKeys)).toEqual({
      content: 'restrict ssh-ed25519 AAAA test\n',
      mode: '0600',
      owner: 'hearth:hearth',
    });
    expect(model.hearthWrites).toEqual(
      expect.arrayContaining([paths.sshDir, paths.authorizedKeys, paths.appsDir]),
    );
    expect(model.rootInHearthTrees).toEqual([]);
    expect(model.dirs.get(paths.stateDir)).toEqual({ mode: '750', owner: 'hearth' });
    // The last step asks the device whether hearth may now run the agent, and only that.
    expect(model.sudoList).toEqual([`sudo -n -l ${paths.agent}`]);
    expect(first.steps.get('Allow Hearth only what it needs')?.state).toBe('done');

    const writes = model.writes.length;
    const hearthWrites = model.hearthWrites.length;
    const second = await provisionModel(model);
    expect(model.unknown).toEqual([]);
    expect(model.writes.slice(writes)).toEqual([]);
    expect(model.hearthWrites.slice(hearthWrites)).toEqual([]);
    for (const label of provisioningSteps.slice(4, -1))
      expect([label, second.steps.get(label)?.state]).toEqual([label, 'already-done']);
  });

  it('puts the backup script, its timer units and the sshd rule for other devices in place; once', async () => {
    const model = new DeviceModel(null, debianAnswer);
    model.dirs.set('/etc/ssh/sshd_config.d', { mode: '755', owner: 'root' });
    await provisionModel(model);
    expect(model.unknown).toEqual([]);
    expect(model.files.get(paths.peerBackupScript)).toEqual({
      content: peerBackupScript(),
      mode: '0755',
      owner: 'root:root',
    });
    expect(model.files.get(paths.backupTemplate)?.content).toBe(backupServiceTemplate());
    expect(model.files.get(paths.backupTimerTemplate)?.content).toBe(backupTimerTemplate());
    expect(model.files.get(paths.peerSshdDropIn)?.content).toBe(peerSshdDropIn());
    // sshd's config is tested with the rule in place, and systemd loads the units, once each.
    expect(model.sshdTests).toBe(1);
    expect(model.reloads).toBe(1);
    const writes = model.writes.length;
    await provisionModel(model);
    expect(model.writes.slice(writes)).toEqual([]);
    expect([model.sshdTests, model.reloads]).toEqual([1, 1]);
  });

  it('refuses a ~hearth/.ssh replaced by a link to a root folder, and changes nothing there', async () => {
    const model = new DeviceModel(null, debianAnswer);
    await provisionModel(model);
    // What an attacker with the hearth key does before the owner prepares the device again.
    model.dirs.delete(paths.sshDir);
    model.files.delete(paths.authorizedKeys);
    model.links.set(paths.sshDir, paths.libDir);
    const writes = model.writes.length;
    const hearthWrites = model.hearthWrites.length;
    const error = await provisionFails(model);
    expect(error).toMatchObject({ code: 'DEVICE_TAMPERED' });
    expect(error?.message).toContain('/home/hearth/.ssh should be a folder, but it is a link');
    expect(model.writes.slice(writes)).toEqual([]);
    expect(model.hearthWrites.slice(hearthWrites)).toEqual([]);
    expect(model.rootInHearthTrees).toEqual([]);
    expect(model.unknown).toEqual([]);
  });

  // Four devices, each prepared once and then again: some 200 round trips.
  it(
    "refuses links and strangers' files in Hearth's folders before reading or writing them",
    { timeout: 90_000 },
    async () => {
      const cases: [string, (m: DeviceModel) => void, string][] = [
        [
          'apps folder is a link',
          (m) => (m.dirs.delete(paths.appsDir), m.links.set(paths.appsDir, '/etc')),
          '/var/lib/hearth/apps should be a folder, but it is a link',
        ],
        [
          'device.json is a link',
          (m) => (m.files.delete(paths.deviceJson), m.links.set(paths.deviceJson, '/etc/shadow')),
          '/etc/hearth/device.json should be a file, but it is a link',
        ],
        [
          'authorized_keys belongs to root',
          (m) => {
            const keys = m.files.get(paths.authorizedKeys);
            if (keys) keys.owner = 'root:root';
          },
          '/home/hearth/.ssh/authorized_keys belongs to the account "root" instead of "hearth"',
        ],
        [
          "the agent's folder was given to hearth",
          (m) => m.dirs.set(paths.libDir, { mode: '755', owner: 'hearth' }),
          '/usr/local/lib/hearth belongs to the account "hearth" instead of "root"',
        ],
        [
          "the agent's folder is writable by its group",
          (m) => m.dirs.set(paths.libDir, { mode: '775', owner: 'root' }),
          '/usr/local/lib/hearth may be changed by accounts other than root',
        ],
      ];
      for (const [what, plant, sentence] of cases) {
        const model = new DeviceModel(null, debianAnswer);
        model.dirs.set(paths.libDir, { mode: '755', owner: 'root' });
        await provisionModel(model);
        plant(model);
        const writes = model.writes.length;
        const error = await provisionFails(model);
        expect([what, error?.code]).toEqual([what, 'DEVICE_TAMPERED']);
        expect(error?.message).toContain(sentence);
        expect([what, model.writes.slice(writes)]).toEqual([what, []]);
        expect(model.rootInHearthTrees).toEqual([]);
        await device?.stop();
        device = null;
      }
    },
  );

  it("never names the agent in sudoers while its folder is not root's alone", async () => {
    const model = new DeviceModel(null, debianAnswer);
    model.dirs.set(paths.libDir, { mode: '755', owner: 'hearth' });
    const error = await provisionFails(model);
    expect(error?.code).toBe('DEVICE_TAMPERED');
    expect(model.files.has(paths.sudoers)).toBe(false);
    expect(model.files.has(paths.agent)).toBe(false);
  });

  it('refuses a hearth account that Hearth did not make, and never adopts it', async () => {
    for (const [account, sentence] of [
      ['hearth:x:1001:1001:Heather:/home/hearth:/bin/bash', "a person's account, uid 1001"],
      ['hearth:x:0:0::/home/hearth:/bin/sh', 'an administrator account'],
      ['hearth:x:120:120::/var/www:/bin/sh', 'its home is /var/www'],
    ] as const) {
      const model = new DeviceModel(null, debianAnswer);
      model.account = account;
      const error = await provisionFails(model);
      expect([account, error?.code]).toEqual([account, 'HEARTH_ACCOUNT_TAKEN']);
      expect(error?.message).toContain(sentence);
      expect(model.writes).toEqual([]);
      expect(model.hearthWrites).toEqual([]);
      await device?.stop();
      device = null;
    }
  });
});
