// Run on the lab's laptop side by bench/run.ts: prepares one device with Hearth's real
// provisioning code and prints how long it took; with --baseline, only signs in and runs
// `true` (the cost of one SSH session, for the ratio).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FileKeyVault } from '../electron/services/keys/file-key-vault';
import { ensureInstallKey } from '../electron/services/keys/install-key';
import { provision } from '../electron/services/provisioning/provisioner';
import { connectSsh } from '../electron/services/ssh/ssh-connect';
import { TaskManager } from '../electron/services/tasks/task-manager';

const { values } = parseArgs({
  options: {
    address: { type: 'string' },
    fingerprint: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    baseline: { type: 'boolean', default: false },
  },
});
const address = values.address ?? '';
const fingerprint = values.fingerprint ?? '';
const username = values.user ?? '';
const password = values.password ?? '';
const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-'));
const vault = new FileKeyVault(join(dir, 'vault'));
await ensureInstallKey(vault);

const started = performance.now();
if (values.baseline) {
  const session = await connectSsh({
    host: address,
    username,
    auth: { password },
    hostKey: { kind: 'pinned', fingerprint },
  });
  await session.exec('true');
  session.close();
} else {
  const tasks = new TaskManager({ clock: { now: () => Date.now() }, publish: () => undefined });
  await provision(
    {
      tasks,
      hearthVersion: 'bench',
      installKey: () => ensureInstallKey(vault),
      saveDevice: () => Promise.resolve(),
      connect: (r) =>
        connectSsh({
          host: r.address,
          port: r.port,
          username: r.username,
          auth: r.auth,
          hostKey: { kind: 'pinned', fingerprint: r.fingerprint },
          signal: r.signal,
        }),
    },
    { address, port: 22, fingerprint, username, password },
  ).done;
}
console.log(JSON.stringify({ ms: performance.now() - started }));
rmSync(dir, { recursive: true, force: true });
process.exit(0);
