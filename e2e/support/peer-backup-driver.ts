// Drives the peer-backup use case (services/backups/peer-backup.ts) against the lab, on the
// laptop side, over the same connections Hearth's services make: the devices Hearth prepared
// (its user-data folder's device store) and its own key (its file key vault). One JSON line out.
//
//   tsx e2e/support/peer-backup-driver.ts USER_DATA configure SOURCE TARGET APP PASSWORD HOURS
//   tsx e2e/support/peer-backup-driver.ts USER_DATA status|points|disable SOURCE APP
//   tsx e2e/support/peer-backup-driver.ts USER_DATA restore SOURCE APP SNAPSHOT
// SOURCE and TARGET are device names as the owner gave them.
import { join } from 'node:path';
import {
  configurePeer,
  disablePeer,
  peerPoints,
  peerStatus,
  restoreFromPeer,
} from '../../electron/services/backups/peer-backup';
import { DeviceSessions } from '../../electron/services/device/device-sessions';
import { DeviceStore } from '../../electron/services/devices/device-store';
import { FileKeyVault } from '../../electron/services/keys/file-key-vault';
import { ensureInstallKey } from '../../electron/services/keys/install-key';
import { connectSsh } from '../../electron/services/ssh/ssh-connect';
import { AtomicJsonStore } from '../../electron/services/store/atomic-json-store';

async function main(): Promise<unknown> {
  const [userData = '', command = '', ...args] = process.argv.slice(2);
  const devices = new DeviceStore(new AtomicJsonStore(join(userData, 'state')), () => undefined);
  const vault = new FileKeyVault(join(userData, 'vault'));
  const sessions = new DeviceSessions({
    devices,
    privateKey: async () => (await ensureInstallKey(vault)).privateKey,
    connect: connectSsh,
  });
  const byName = async (name: string) => {
    const record = (await devices.list()).find((d) => d.name === name);
    if (!record) throw new Error(`no device named ${name}`);
    const client = await sessions.client(record.id);
    return { session: client.session, deviceId: record.id, record };
  };
  try {
    if (command === 'configure') {
      const [source = '', target = '', appId = '', password = '', hours = ''] = args;
      return await configurePeer(await byName(source), await byName(target), {
        appId,
        password,
        everyHours: Number(hours),
      });
    }
    const [source = '', appId = '', snapshot = ''] = args;
    const device = await byName(source);
    if (command === 'status') return await peerStatus(device, appId);
    if (command === 'points') return await peerPoints(device, appId);
    if (command === 'disable') return await disablePeer(device, appId);
    if (command === 'restore') return await restoreFromPeer(device, appId, snapshot);
    throw new Error(`unknown command ${command}`);
  } finally {
    sessions.closeAll();
  }
}

main().then(
  (value) => {
    process.stdout.write(`${JSON.stringify({ ok: true, value: value ?? null })}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    const e = error as { code?: string; message?: string };
    process.stdout.write(
      `${JSON.stringify({ ok: false, code: e.code ?? 'ERROR', message: e.message ?? String(error) })}\n`,
    );
    process.exit(1);
  },
);
