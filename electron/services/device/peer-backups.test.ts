import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pointTags } from '../backups/backup-format';
import { fingerprintOf } from '../ssh/host-key-fingerprint';
import {
  backupServiceTemplate,
  backupTimerTemplate,
  ed25519Blob,
  initPeerRepository,
  parsePeerSnapshots,
  peerBackupScript,
  peerSshdDropIn,
  readPeerStatus,
  setTarget,
  trustTarget,
} from './peer-backups';
import { PeerTestSession } from './peer-test-session';

const blob = 'AAAAC3NzaC1lZDI1NTE5AAAAIJ9R08asc30cbIsF36N315WBzd88dfZWdNACEYFoLCEA';
const source = '0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4';
const target = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const otherBlob = 'AAAAC3NzaC1lZDI1NTE5AAAAIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh';

describe('the source device’s backup key', () => {
  it('is one bare ed25519 key line, or refused', () => {
    expect(ed25519Blob(`ssh-ed25519 ${blob} hearth-backup\n`)).toBe(blob);
    expect(ed25519Blob(`ssh-ed25519 ${blob}`)).toBe(blob);
    for (const line of [
      `restrict ssh-ed25519 ${blob}`,
      `command="id" ssh-ed25519 ${blob}`,
      `ssh-rsa ${blob}`,
      `ssh-ed25519 ${blob}\nssh-ed25519 ${otherBlob}`,
      `ssh-ed25519 ${blob} a\nb`,
      `ssh-ed25519 ${blob.slice(1)}`,
      `ssh-ed25519 ${blob} comment with spaces`,
      '',
    ])
      expect(() => ed25519Blob(line), line).toThrow();
  });
});

describe('trusting the target from the source', () => {
  const trusted = fingerprintOf(Buffer.from(blob, 'base64'));
  const where = { id: target, hostKeyFingerprint: trusted, address: '198.18.0.11', sshPort: 22 };

  it('keeps only the host key Hearth already trusts, under the target id, never its address', async () => {
    const session = new PeerTestSession({
      'peer-keyscan': () =>
        `198.18.0.11 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ\n198.18.0.11 ssh-ed25519 ${blob}\n# comment\n`,
    });
    await trustTarget(session, where);
    const file = session.files.get(
      `/var/lib/hearth/backup/targets/${target}/known_hosts.hearth-new`,
    );
    expect(file).toEqual({ data: `hearth-${target} ssh-ed25519 ${blob}\n`, mode: 0o600 });
    expect(session.ops()).toEqual(['peer-keyscan', 'peer-known-host-dir', 'peer-known-host']);
  });

  it('refuses a device that answers with another key, and writes nothing', async () => {
    const session = new PeerTestSession({
      'peer-keyscan': () => `198.18.0.11 ssh-ed25519 ${otherBlob}\n`,
    });
    await expect(trustTarget(session, where)).rejects.toMatchObject({ code: 'HOST_KEY_CHANGED' });
    expect(session.files.size).toBe(0);
  });

  it('says the target cannot be reached when nothing answers', async () => {
    const session = new PeerTestSession({ 'peer-keyscan': () => '' });
    await expect(trustTarget(session, where)).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE' });
  });

  it('refuses an address or port that could become an option or a second word', async () => {
    const session = new PeerTestSession();
    for (const address of ['-oProxyCommand=id', 'a b', 'a;id', '$(id)', ''])
      await expect(trustTarget(session, { ...where, address })).rejects.toThrow();
    await expect(trustTarget(session, { ...where, sshPort: 0 })).rejects.toThrow();
    expect(session.calls).toEqual([]);
  });
});

describe('where the source sends an app’s backups', () => {
  const where = { id: target, hostKeyFingerprint: 'SHA256:x', address: '198.18.0.11', sshPort: 22 };

  it('writes the password, the target and the app’s choice as files only the hearth account reads', async () => {
    const session = new PeerTestSession();
    await setTarget(session, source, 'counter', where, 'correct horse battery');
    const dir = `/var/lib/hearth/backup/targets/${target}`;
    expect(session.files.get(`${dir}/password.hearth-new`)).toEqual({
      data: 'correct horse battery',
      mode: 0o600,
    });
    expect(session.files.get(`${dir}/target.conf.hearth-new`)?.data).toBe(
      'host 198.18.0.11\nport 22\nuser hb-0b6f1c2e3d4a\n',
    );
    expect(session.files.get('/var/lib/hearth/backup/apps/counter.target.hearth-new')?.data).toBe(
      `${target}\n`,
    );
    // The password never rides on a command line.
    expect(session.calls.some((c) => c.script.includes('correct horse'))).toBe(false);
  });

  it('refuses a password with a line break, an app id or device id that is not one', async () => {
    const session = new PeerTestSession();
    await expect(setTarget(session, source, 'counter', where, 'two\nlines!')).rejects.toThrow();
    await expect(setTarget(session, source, '../x', where, 'long enough')).rejects.toThrow();
    await expect(setTarget(session, 'x', 'counter', where, 'long enough')).rejects.toThrow();
    expect(session.files.size).toBe(0);
  });
});

describe('a device that is not ready for peer backups', () => {
  it('needs preparing again when it lacks the script or restic', async () => {
    for (const stderr of [
      'sh: 1: /usr/local/lib/hearth/peer-backup: not found\n',
      '/usr/local/lib/hearth/peer-backup: 120: restic: not found\n',
    ]) {
      const session = new PeerTestSession({ 'peer-init': () => ({ code: 127, stderr }) });
      await expect(initPeerRepository(session, 'counter')).rejects.toMatchObject({
        code: 'DEVICE_NEEDS_PREPARING',
      });
    }
  });
});

describe('what the source’s timer last did', () => {
  const status = {
    format: 1,
    appId: 'counter',
    targetId: target,
    startedAt: 1,
    finishedAt: 2,
    ok: true,
    sentence: 'Backed up.',
    snapshotId: 'a'.repeat(64),
    bytes: 10,
  };

  it('is read strictly: garbage, another app’s file or nothing at all is null', async () => {
    const read = (text: string) =>
      readPeerStatus(new PeerTestSession({ 'peer-status': () => text }), 'counter');
    expect(await read(JSON.stringify(status))).toEqual(status);
    expect(await read('')).toBeNull();
    expect(await read('{"ok":true')).toBeNull();
    expect(await read(JSON.stringify({ ...status, appId: 'other' }))).toBeNull();
    expect(await read(JSON.stringify({ ...status, snapshotId: 'zz' }))).toBeNull();
    expect(await read(JSON.stringify({ ...status, bytes: -1 }))).toBeNull();
  });
});

describe('the points in time restic lists', () => {
  const snap = (over: Record<string, unknown>) => ({
    time: '2026-12-01T10:00:00.123456789Z',
    paths: ['/counter.tar'],
    hostname: source,
    tags: ['hearth', 'app=counter', 'version=1.0.0'],
    id: 'b'.repeat(64),
    short_id: 'bbbbbbbb',
    ...over,
  });

  it("are this app's from this device only, newest first", () => {
    const points = parsePeerSnapshots(
      JSON.stringify([
        snap({}),
        snap({ id: 'c'.repeat(64), time: '2026-12-01T11:00:00Z' }),
        snap({ id: 'd'.repeat(64), hostname: target }),
        snap({ id: 'e'.repeat(64), paths: ['/other.tar'] }),
        snap({ id: 'f'.repeat(64), tags: ['app=counter'] }),
      ]),
      source,
      'counter',
    );
    expect(points.map((p) => p.id)).toEqual(['c'.repeat(64), 'b'.repeat(64)]);
    // A copy from a device whose runs tagged only the app and its version.
    expect(points[1]).toEqual({
      id: 'b'.repeat(64),
      deviceId: source,
      appId: 'counter',
      appName: 'counter',
      appVersion: '1.0.0',
      takenAt: Date.parse('2026-12-01T10:00:00.123Z'),
      sizeBytes: 0,
      volumes: [],
    });
  });

  it('carry the name, size, volumes and moment of the copy the device tagged them with', () => {
    const tags = pointTags({
      appId: 'counter',
      appName: 'Zähler & Co, 2',
      appVersion: '2.0.0',
      sizeBytes: 65_557,
      volumes: ['data', 'logs'],
      takenAt: Date.parse('2026-12-01T10:00:05Z'),
      pausedMs: 40,
    });
    const [point] = parsePeerSnapshots(JSON.stringify([snap({ tags })]), source, 'counter');
    expect(point).toEqual({
      id: 'b'.repeat(64),
      deviceId: source,
      appId: 'counter',
      appName: 'Zähler & Co, 2',
      appVersion: '2.0.0',
      takenAt: Date.parse('2026-12-01T10:00:05Z'),
      sizeBytes: 65_557,
      volumes: ['data', 'logs'],
    });
  });

  it('are refused as a whole when restic says something else', () => {
    for (const text of [
      'nope',
      '{}',
      JSON.stringify([snap({ id: 'xyz' })]),
      JSON.stringify([snap({ time: 'yesterday' })]),
    ])
      expect(() => parsePeerSnapshots(text, source, 'counter'), text).toThrow();
    expect(parsePeerSnapshots('', source, 'counter')).toEqual([]);
  });
});

describe('the files a device gets', () => {
  it('confine another device’s account to SFTP in its own folder', () => {
    const rule = peerSshdDropIn();
    expect(rule).toContain('Match Group hearth-peers\n');
    for (const line of [
      'ForceCommand internal-sftp -d /repo',
      'ChrootDirectory /srv/hearth-backups/%u',
      'AuthorizedKeysFile /etc/hearth/peer-keys/%u',
      'PermitTTY no',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'PasswordAuthentication no',
    ])
      expect(rule).toContain(`\t${line}\n`);
  });

  it('run the backup as the hearth account on a calendar that catches up after a boot', () => {
    expect(backupServiceTemplate()).toContain('User=hearth\n');
    expect(backupServiceTemplate()).toContain(
      'ExecStart=/usr/local/lib/hearth/peer-backup run %i\n',
    );
    expect(backupTimerTemplate()).toContain('Persistent=true\n');
  });
});

describe('the device’s backup script under sh', () => {
  let dir = '';
  let scriptPath = '';
  const me = userInfo().username;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-peer-script-'));
    mkdirSync(join(dir, 'apps', 'counter', 'state'), { recursive: true });
    mkdirSync(join(dir, 'backup', 'apps'), { recursive: true });
    scriptPath = join(dir, 'peer-backup');
    writeFileSync(
      scriptPath,
      peerBackupScript({
        appsDir: join(dir, 'apps'),
        backupDir: join(dir, 'backup'),
        deviceJson: join(dir, 'device.json'),
        user: me,
      }),
      { mode: 0o755 },
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[]) => {
    const r = spawnSync(scriptPath, args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    return { code: r.status, stderr: r.stderr };
  };

  it('is valid sh and the same bytes every time', () => {
    expect(spawnSync('sh', ['-n', scriptPath]).status).toBe(0);
    expect(peerBackupScript()).toBe(peerBackupScript());
  });

  it('refuses commands, app ids and snapshot ids it does not know, before reading anything', () => {
    for (const args of [
      [],
      ['run'],
      ['shell', 'counter'],
      ['run', '../counter'],
      ['run', 'counter x'],
      ['run', 'Counter'],
      ['run', 'counter', 'extra'],
      ['fetch', 'counter'],
      ['fetch', 'counter', 'abc'],
      ['fetch', 'counter', 'latest'],
      ['fetch', 'counter', '0123456789abcdef;id'],
      ['fetch', 'counter', '-o', 'x'],
    ]) {
      const r = run(args);
      expect([args, r.code]).toEqual([args, 2]);
    }
  });

  it('refuses an app that is not backed up to a device, or target settings that are not plain', () => {
    expect(run(['run', 'counter']).stderr).toContain('is not backed up to another device');
    writeFileSync(join(dir, 'backup', 'apps', 'counter.target'), '../../etc\n');
    expect(run(['run', 'counter']).stderr).toContain('is not backed up to another device');
    writeFileSync(join(dir, 'backup', 'apps', 'counter.target'), `${target}\n`);
    const conf = join(dir, 'backup', 'targets', target);
    mkdirSync(conf, { recursive: true });
    for (const [text, said] of [
      ['host -oProxyCommand=id\nport 22\nuser hb-0b6f1c2e3d4a\n', 'not a device address'],
      ['host a;id\nport 22\nuser hb-0b6f1c2e3d4a\n', 'not a device address'],
      ['host 198.18.0.11\nport 22x\nuser hb-0b6f1c2e3d4a\n', 'not a port'],
      ['host 198.18.0.11\nport 22\nuser root\n', 'not a backup account'],
      ['host 198.18.0.11\nport 22\nuser hb-0b6f1c2e3d4z\n', 'not a backup account'],
    ] as const) {
      writeFileSync(join(conf, 'target.conf'), text);
      expect(run(['run', 'counter']).stderr, text).toContain(said);
    }
  });

  it('runs as its own account only', () => {
    writeFileSync(
      scriptPath,
      peerBackupScript({ appsDir: join(dir, 'apps'), user: 'somebody-else' }),
      { mode: 0o755 },
    );
    expect(run(['run', 'counter']).stderr).toContain('runs as the somebody-else account only');
  });
});
