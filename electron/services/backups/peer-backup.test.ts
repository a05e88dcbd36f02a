// The laptop's part of backups to another Hearth device, against test sessions that answer each
// tagged device operation (device/peer-test-session.ts); the device side is proven on the lab
// (e2e/specs/peer-backup.spec.ts).
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../ssh/host-key-fingerprint';
import { PeerTestSession } from '../device/peer-test-session';
import { configurePeer, disablePeer, peerPoints, peerStatus, restoreFromPeer } from './peer-backup';

const sourceId = '0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4';
const targetId = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const sourceKey = 'AAAAC3NzaC1lZDI1NTE5AAAAIJ9R08asc30cbIsF36N315WBzd88dfZWdNACEYFoLCEA';
const targetHostKey = 'AAAAC3NzaC1lZDI1NTE5AAAAIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh';
const sha = 'e'.repeat(64);

function devices(keyscan = `198.18.0.11 ssh-ed25519 ${targetHostKey}\n`) {
  const source = new PeerTestSession({
    'peer-key': () => `ssh-ed25519 ${sourceKey} hearth-backup\n`,
    'peer-keyscan': (call) => (call.script.includes('198.18.0.11') ? keyscan : ''),
    'peer-init': () => 'created\n',
  });
  const target = new PeerTestSession({ 'peer-allow': () => 'hb-0b6f1c2e3d4a\n' });
  return {
    source,
    target,
    src: { session: source, deviceId: sourceId },
    tgt: {
      session: target,
      deviceId: targetId,
      record: {
        hostKeyFingerprint: fingerprintOf(Buffer.from(targetHostKey, 'base64')),
        addresses: ['198.19.0.11', '198.18.0.11'],
        sshPort: 22,
      },
    },
  };
}

describe('configuring a peer backup', () => {
  it('lets the source in on the target, trusts the target’s known key, keeps the password and starts the timer', async () => {
    const d = devices();
    const done = await configurePeer(d.src, d.tgt, {
      appId: 'counter',
      password: 'a long enough password',
      everyHours: 24,
    });
    expect(done).toEqual({
      account: 'hb-0b6f1c2e3d4a',
      address: '198.18.0.11',
      repository: 'created',
      everyMinutes: 1440,
    });
    expect(d.target.calls.map((c) => [c.op, c.script])).toEqual([
      ['peer-allow', `sudo -n /usr/local/lib/hearth/agent peer-allow ${sourceId} ${sourceKey}`],
    ]);
    // The first address did not answer; the second did, with the key Hearth trusts.
    expect(d.source.ops()).toEqual([
      'peer-key',
      'peer-keyscan',
      'peer-keyscan',
      'peer-known-host-dir',
      'peer-known-host',
      'peer-password-dir',
      'peer-password',
      'peer-target-dir',
      'peer-target',
      'peer-app-target-dir',
      'peer-app-target',
      'peer-init',
      'peer-schedule',
    ]);
    expect(d.source.calls.at(-1)?.script).toBe(
      'sudo -n /usr/local/lib/hearth/agent backup-on counter 1440',
    );
  });

  it('refuses a target that answers with another host key before anything is sent to it', async () => {
    const d = devices(`198.18.0.11 ssh-ed25519 ${sourceKey}\n`);
    await expect(
      configurePeer(d.src, d.tgt, {
        appId: 'counter',
        password: 'a long enough password',
        everyHours: 24,
      }),
    ).rejects.toMatchObject({ code: 'HOST_KEY_CHANGED' });
    expect(d.source.ops()).not.toContain('peer-password');
    expect(d.source.ops()).not.toContain('peer-schedule');
  });

  it('refuses a schedule a calendar cannot keep, and the app’s own device as the target', async () => {
    const d = devices();
    for (const everyHours of [5, 0, -1, 1.5, Number.NaN, 48])
      await expect(
        configurePeer(d.src, d.tgt, {
          appId: 'counter',
          password: 'a long enough password',
          everyHours,
        }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      configurePeer(
        d.src,
        { ...d.tgt, deviceId: sourceId },
        {
          appId: 'counter',
          password: 'a long enough password',
          everyHours: 24,
        },
      ),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(d.source.calls).toEqual([]);
    expect(d.target.calls).toEqual([]);
  });

  it('turns the timer off, keeping what was taken', async () => {
    const d = devices();
    await disablePeer(d.src, 'counter');
    expect(d.source.calls.map((c) => c.script)).toEqual([
      'sudo -n /usr/local/lib/hearth/agent backup-off counter',
    ]);
  });
});

describe('reading what the device did', () => {
  it('gives the status file and the points in time, parsed strictly', async () => {
    const session = new PeerTestSession({
      'peer-status': () =>
        JSON.stringify({
          format: 1,
          appId: 'counter',
          targetId,
          startedAt: 1,
          finishedAt: 2,
          ok: false,
          sentence: 'The other device could not be reached, so no backup was taken.',
          snapshotId: null,
          bytes: 0,
        }),
      'peer-snapshots': () =>
        JSON.stringify([
          {
            time: '2026-12-01T10:00:00Z',
            paths: ['/counter.tar'],
            hostname: sourceId,
            tags: ['hearth'],
            id: sha,
          },
        ]),
    });
    const device = { session, deviceId: sourceId };
    expect(await peerStatus(device, 'counter')).toMatchObject({ ok: false, snapshotId: null });
    expect((await peerPoints(device, 'counter')).map((p) => p.id)).toEqual([sha]);
  });

  it('turns a wrong password into the recovery kit’s sentence', async () => {
    const session = new PeerTestSession({
      'peer-snapshots': () => ({ code: 1, stderr: 'Fatal: wrong password or no key found\n' }),
    });
    await expect(peerPoints({ session, deviceId: sourceId }, 'counter')).rejects.toMatchObject({
      code: 'BACKUP_WRONG_PASSWORD',
    });
  });
});

describe('restoring from the other device', () => {
  const manifest = {
    format: 1,
    deviceId: sourceId,
    appId: 'counter',
    appName: 'Counter',
    appVersion: '1.0.0',
    takenAt: 1,
    pausedMs: 3,
    volumes: [{ name: 'data', sizeBytes: 1024, sha256: sha }],
    image: { sha256: 'f'.repeat(64), sizeBytes: 10 },
  };
  const fast = { sleep: () => Promise.resolve(), healthTimeoutMs: 5_000 };

  function source(health: string[], over: Record<string, () => unknown> = {}) {
    return new PeerTestSession({
      'peer-fetch': () => JSON.stringify(manifest),
      'console-size': () => '4096\n',
      'restore-health': () => `${health.shift() ?? 'waiting'}\n`,
      ...(over as Record<string, () => string>),
    });
  }

  it('checks the download on the device, swaps it in, and keeps it once the app is healthy', async () => {
    const session = source(['waiting', 'healthy']);
    expect(await restoreFromPeer({ session, deviceId: sourceId }, 'counter', sha, fast)).toEqual(
      manifest,
    );
    expect(session.ops()).toEqual([
      'peer-fetch',
      'restore-verify',
      'console-size',
      'restore-swap',
      'restore-start',
      'restore-health',
      'restore-health',
      'restore-commit',
    ]);
    const verify = session.calls[1]?.script ?? '';
    expect(verify).toContain(
      `h=$(sha256_of volumes/data.img) && [ "\${h%% *}" = ${sha} ] || exit 1`,
    );
    const swap = session.calls[3]?.script ?? '';
    // The app stops before its data moves; its own volume is kept beside the restored one.
    expect(swap.indexOf('agent stop counter')).toBeLessThan(swap.indexOf('mv -f data.img'));
    expect(swap).toContain('mv -f data.img data.img.before-restore');
    // Health is judged on this boot's console only: after the offset before the start.
    expect(session.calls[5]?.script).toContain('tail -c +4097');
  });

  it('puts the app’s own data back and starts it again when it is not healthy on the restore', async () => {
    const session = source(['waiting', 'failed']);
    await expect(
      restoreFromPeer({ session, deviceId: sourceId }, 'counter', sha, fast),
    ).rejects.toMatchObject({ code: 'RESTORE_NOT_HEALTHY' });
    expect(session.ops().slice(-3)).toEqual([
      'restore-health',
      'restore-rollback',
      'restore-start',
    ]);
    expect(session.calls.at(-2)?.script).toContain('mv -f data.img.before-restore data.img');
  });

  it('asks the app’s own health check too, when it has one', async () => {
    const session = source(['healthy', 'healthy', 'healthy']);
    const answers = [false, true];
    await restoreFromPeer({ session, deviceId: sourceId }, 'counter', sha, {
      ...fast,
      healthy: () => Promise.resolve(answers.shift() ?? false),
    });
    expect(session.ops().slice(-3)).toEqual(['restore-health', 'restore-health', 'restore-commit']);
  });

  it('leaves the app alone when the download does not match its manifest', async () => {
    const session = source([], { 'restore-verify': () => ({ code: 1 }) });
    await expect(
      restoreFromPeer({ session, deviceId: sourceId }, 'counter', sha, fast),
    ).rejects.toMatchObject({ code: 'RESTORE_CHECKSUM_MISMATCH' });
    expect(session.ops()).toEqual(['peer-fetch', 'restore-verify', 'restore-drop']);
  });

  it('refuses a manifest of another app or device, and snapshot ids that are not ids', async () => {
    for (const other of [{ appId: 'notes' }, { deviceId: targetId }, { format: 2 }]) {
      const session = source([], { 'peer-fetch': () => JSON.stringify({ ...manifest, ...other }) });
      await expect(
        restoreFromPeer({ session, deviceId: sourceId }, 'counter', sha, fast),
      ).rejects.toMatchObject({ code: 'BACKUP_DAMAGED' });
      expect(session.ops()).toEqual(['peer-fetch']);
    }
    const session = source([]);
    for (const id of ['latest', 'abc', `${sha};id`, '../x'])
      await expect(
        restoreFromPeer({ session, deviceId: sourceId }, 'counter', id, fast),
      ).rejects.toThrow();
    expect(session.calls).toEqual([]);
  });
});
