// Provisioning against hostile or broken devices (an in-process ssh2.Server): every case
// ends in a clear error on the right step, the process stays up, and nothing is saved on
// the laptop. The happy path runs against the lab's real devices (e2e/specs/first-device).
import { randomBytes } from 'node:crypto';
import type { ServerChannel } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceRecord, TaskSnapshot } from '../../../shared/model';
import { connectSsh } from '../ssh/ssh-connect';
import { FakeSshDevice } from '../ssh/fake-ssh-device';
import { TaskManager } from '../tasks/task-manager';
import { provision, provisioningSteps } from './provisioner';

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
