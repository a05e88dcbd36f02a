// The devices of the "cost of watching" row (watching-cost.ts): real SSH servers (ssh2, on
// 127.0.0.1) in the bench's own process, each answering what Hearth's watching asks of a
// prepared device (the status script, the disk, anything else an app's state needs) from the
// in-memory device model the unit tests use (FakeDevice), with a few running apps each. They
// are recorded the way provisioning records a device: the host key pinned as it was read.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { DeviceRecord } from '../shared/model';
import { sampleDeviceRecord } from '../shared/sample-device';
import { appSpec } from '../electron/services/apps/apps-test-kit';
import { FakeDevice } from '../electron/services/device/fake-device';
import { HEARTH_USER } from '../electron/services/device/layout';
import { DeviceStore } from '../electron/services/devices/device-store';
import { FileKeyVault } from '../electron/services/keys/file-key-vault';
import { ensureInstallKey } from '../electron/services/keys/install-key';
import { FakeSshDevice } from '../electron/services/ssh/fake-ssh-device';
import { probeHostKey } from '../electron/services/ssh/probe-host-key';
import { AtomicJsonStore } from '../electron/services/store/atomic-json-store';

/** What the devices were asked, since the last reset. */
export interface DeviceAsks {
  /** Status scripts (one per device per refresh of the app monitor). */
  status: number;
  /** Every other operation, by its tag's first word. */
  other: Record<string, number>;
  /** Commands no device understood: the row is wrong if there are any. */
  unknown: string[];
}

export interface WatchedDevices {
  records: DeviceRecord[];
  asks(): DeviceAsks;
  resetAsks(): void;
  stop(): Promise<void>;
}

/** A df -Pk line of a 32 GB card, a third full (what disk-usage.ts reads). */
const DF_LINE =
  'Filesystem     1024-blocks    Used Available Capacity Mounted on\n/dev/mmcblk0p2    30000000 10000000  20000000      34% /\n';

/**
 * Starts `count` devices with `appsEach` running apps, lets Hearth's install key (made in
 * `userDataDir`'s vault, where the services will read it) sign in as the hearth account, and
 * saves their records in `userDataDir`'s device store.
 */
export async function startWatchedDevices(
  userDataDir: string,
  count: number,
  appsEach: number,
): Promise<WatchedDevices> {
  const { publicKey } = await ensureInstallKey(new FileKeyVault(join(userDataDir, 'vault')));
  const store = new DeviceStore(new AtomicJsonStore(join(userDataDir, 'state')), () => undefined);
  let asks: DeviceAsks = { status: 0, other: {}, unknown: [] };
  const servers: FakeSshDevice[] = [];
  const records: DeviceRecord[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      const model = new FakeDevice();
      for (let j = 1; j <= appsEach; j++)
        model.installed(appSpec({ appId: `app-${j}`, name: `App ${j}` }));
      const server = await FakeSshDevice.start({
        username: HEARTH_USER,
        authorizedKeys: [publicKey],
        onCommand: (command, channel) => {
          const op = /^sh -c '# hearth:([a-z-]+)/.exec(command)?.[1] ?? '';
          if (op === 'status') asks.status += 1;
          else asks.other[op || '(untagged)'] = (asks.other[op || '(untagged)'] ?? 0) + 1;
          const answer =
            op === 'disk-usage'
              ? Promise.resolve({ code: 0, stdout: DF_LINE, stderr: '' })
              : model.exec(command);
          void answer.then(
            ({ code, stdout, stderr }) => {
              if (code === 127) asks.unknown.push(command.slice(0, 120));
              if (stdout) channel.write(stdout);
              if (stderr) channel.stderr.write(stderr);
              channel.exit(code ?? 1);
              channel.end();
            },
            () => channel.close(),
          );
        },
      });
      servers.push(server);
      // As provisioning does: the key the device presents is read and pinned in its record.
      const { fingerprint } = await probeHostKey({ host: '127.0.0.1', port: server.port });
      const record = sampleDeviceRecord({
        id: randomUUID(),
        name: `Bench device ${String(i).padStart(2, '0')}`,
        hostname: `bench-device-${i}`,
        addresses: ['127.0.0.1'],
        sshPort: server.port,
        hostKeyFingerprint: fingerprint,
      });
      await store.save(record);
      records.push(record);
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  return {
    records,
    asks: () => structuredClone(asks),
    resetAsks: () => (asks = { status: 0, other: {}, unknown: [] }),
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
