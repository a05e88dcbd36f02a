// One backup run of the device's own script (peer-backups.ts), the real script under sh with
// restic, QEMU's qmp helper, systemd, sudo and Xen's xl faked on its PATH (the real root agent
// behind the fake sudo): what it streams must be what the laptop writes and reads, and the
// laptop's tar must be what it restores.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  backupManifestSchema,
  imageMember,
  parsePointTags,
  volumeMember,
} from '../backups/backup-format';
import { manifestMismatches, packBackup, unpackBackup } from '../backups/backup-tar';
import { agentScript } from './agent-script';
import { peerBackupScript, peerSentences } from './peer-backups';

// Each run is the whole script with its forks (sh, tar, sha256sum, the fake tools): about 2 s
// for the longer cases on an idle machine, so the default 5 s is too close on a busy one.
vi.setConfig({ testTimeout: 30_000 });

const deviceId = '0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4';
const target = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const image = 'c'.repeat(64);
const initrd = 'd'.repeat(64);
const fullId = 'a'.repeat(64);
const volume = Buffer.alloc(65536, 7);
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

let dir = '';
let calls = '';
const appDir = () => join(dir, 'apps', 'counter');
const dataFile = () => join(appDir(), 'data', 'data.img');

function writeSpec(fields: Record<string, unknown> = {}) {
  // As the installer writes it: JSON.stringify of the spec, one line.
  writeFileSync(
    join(appDir(), 'spec.json'),
    `${JSON.stringify({ appId: 'counter', name: 'Counter', version: '1.0.0', target: 'qemu-x86_64', sha256: image, disk: 'ide', memoryMiB: 32, volumes: [{ name: 'data', sizeMiB: 1 }], ports: [], ...fields })}\n`,
  );
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-peer-run-'));
  calls = join(dir, 'calls');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  mkdirSync(join(appDir(), 'images'), { recursive: true });
  mkdirSync(join(appDir(), 'data'));
  writeSpec();
  writeFileSync(join(appDir(), 'images', image), 'the kernel');
  symlinkSync(`images/${image}`, join(appDir(), 'current'));
  writeFileSync(dataFile(), volume);
  writeFileSync(join(dir, 'vm-running'), '');
  // QEMU's helper: paused while vm-paused exists.
  writeFileSync(
    join(appDir(), 'qmp'),
    `#!/bin/sh
echo "qmp $1" >> ${calls}
case "$1" in
  query-status) [ -e ${dir}/vm-running ] && [ ! -e ${dir}/vm-paused ] && echo '{"return": {"running": true}}' || echo '{"return": {"running": false}}' ;;
  stop) : > ${dir}/vm-paused ;;
  cont) rm -f ${dir}/vm-paused ;;
esac
`,
    { mode: 0o755 },
  );
  mkdirSync(join(dir, 'backup', 'apps'), { recursive: true });
  mkdirSync(join(dir, 'backup', 'targets', target), { recursive: true });
  writeFileSync(join(dir, 'backup', 'apps', 'counter.target'), `${target}\n`);
  writeFileSync(
    join(dir, 'backup', 'targets', target, 'target.conf'),
    'host 198.18.0.11\nport 22\nuser hb-0b6f1c2e3d4a\n',
  );
  writeFileSync(join(dir, 'device.json'), `{\n  "id": "${deviceId}",\n  "name": "Pi"\n}\n`);
  writeFileSync(
    join(bin, 'systemctl'),
    `#!/bin/sh\n[ "$1" = is-active ] || exit 0\n[ -e ${dir}/vm-running ]\n`,
    { mode: 0o755 },
  );
  // cp as the device has it, slowed by cp-delay (seconds) or failing as a full disk would.
  writeFileSync(
    join(bin, 'cp'),
    `#!/bin/sh
for a; do last=$a; done
[ -s ${dir}/cp-delay ] && sleep "$(cat ${dir}/cp-delay)"
case "$last" in *.partial) [ -e ${dir}/disk-full ] && { echo "cp: error writing '$last': No space left on device" >&2; exit 1; } ;; esac
exec /bin/cp "$@"
`,
    { mode: 0o755 },
  );
  // Xen: xl as dom0 has it (one domain, paused while xen-paused exists), behind the real root
  // agent, which the fake sudo runs as sudoers would.
  writeFileSync(
    join(bin, 'xl'),
    `#!/bin/sh
echo "xl $*" >> ${calls}
case "$1" in
  list) [ -e ${dir}/vm-running ] || { echo "$2 is an invalid domain identifier" >&2; exit 1; }
    # xenstore busy for a moment: one list of a paused domain fails.
    [ -e ${dir}/vm-paused ] && [ -e ${dir}/xl-busy-once ] && { rm -f ${dir}/xl-busy-once; exit 1; }
    [ -n "$2" ] || { echo 'Name ID Mem VCPUs State Time(s)'; echo "hearth-counter 7 32 1 -b---- 1.5"; exit 0; }
    echo 'Name                                        ID   Mem VCPUs	State	Time(s)'
    if [ -e ${dir}/vm-paused ]; then s=--p---; else s=-b----; fi
    echo "$2 7 32 1 $s 1.5" ;;
  pause) : > ${dir}/vm-paused ;;
  unpause) rm -f ${dir}/vm-paused ;;
esac
`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(dir, 'agent'),
    agentScript({ appsDir: join(dir, 'apps'), path: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` }),
    { mode: 0o755 },
  );
  writeFileSync(
    join(bin, 'sudo'),
    `#!/bin/sh\n[ "$1" = -n ] && shift\nshift\nexec ${dir}/agent "$@"\n`,
    { mode: 0o755 },
  );
  // restic: records its subcommand; `backup` keeps the stream and its arguments, one a line.
  writeFileSync(
    join(bin, 'restic'),
    `#!/bin/sh
while [ "$1" = -o ]; do shift 2; done
echo "restic $*" >> ${calls}
case "$1" in
  backup) for a; do printf '%s\\n' "$a"; done > ${dir}/backup-args; cat > ${dir}/stream.tar
    echo '{"message_type":"summary","snapshot_id":"abcd1234","total_bytes_processed":66000}' ;;
  snapshots) if [ -e ${dir}/repo-empty ]; then echo '[]'; else echo '[{"time":"t","id":"${fullId}"}]'; fi ;;
  cat) [ -e ${dir}/wrong-password ] && { echo "Fatal: wrong password or no key found" >&2; exit 1; } ;;
  dump) cat ${dir}/dump.tar ;;
esac
exit 0
`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(dir, 'peer-backup'),
    peerBackupScript({
      appsDir: join(dir, 'apps'),
      backupDir: join(dir, 'backup'),
      deviceJson: join(dir, 'device.json'),
      user: userInfo().username,
      path: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
    }),
    { mode: 0o755 },
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Rewrites one of the fake programs in bin/: `from` becomes `to` (a case it should fail in). */
function rewriteFake(program: string, from: string, to: string): void {
  const file = join(dir, 'bin', program);
  writeFileSync(file, readFileSync(file, 'utf8').replace(from, to));
}
const run = (args = ['run', 'counter']) =>
  spawnSync(join(dir, 'peer-backup'), args, { encoding: 'utf8', env: {} });
const recorded = () =>
  existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean) : [];
const backups = () => recorded().filter((l) => l.startsWith('restic backup')).length;
const at = (prefix: string) => recorded().findIndex((l) => l.startsWith(prefix));
const status = () =>
  JSON.parse(readFileSync(join(appDir(), 'state', 'peer-backup.json'), 'utf8')) as Record<
    string,
    unknown
  >;
const tarMembers = () =>
  spawnSync('tar', ['-tf', join(dir, 'stream.tar')], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n');
const rawManifest = () =>
  JSON.parse(
    spawnSync('tar', ['-xOf', join(dir, 'stream.tar'), 'hearth-backup.json'], {
      encoding: 'utf8',
    }).stdout,
  ) as Record<string, unknown>;
const left = () => ({
  work: existsSync(join(appDir(), 'backup-work')),
  copies: spawnSync('sh', ['-c', `ls -A ${join(appDir(), 'data')}`], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n'),
});

describe('one backup run of the device’s script', () => {
  it('pauses only for the copy, streams the laptop’s format with the manifest last, then tidies and checks', () => {
    const r = run();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const log = recorded();
    expect(log.indexOf('qmp stop')).toBeGreaterThan(-1);
    expect(log.indexOf('qmp stop')).toBeLessThan(log.indexOf('qmp cont'));
    expect(log.indexOf('qmp cont')).toBeLessThan(at('restic backup'));
    expect(at('restic forget')).toBeGreaterThan(at('restic backup'));
    // The first run of a month reads all the data back.
    expect(log).toContain('restic check --read-data');
    expect(tarMembers()).toEqual([
      volumeMember('data'),
      imageMember(image),
      'spec.json',
      'hearth-backup.json',
    ]);
    expect(backupManifestSchema.parse(rawManifest())).toEqual({
      format: 1,
      deviceId,
      appId: 'counter',
      appName: 'Counter',
      appVersion: '1.0.0',
      volumes: [{ name: 'data', sizeBytes: 65536, sha256: sha(volume) }],
      image: { sha256: image, sizeBytes: 10 },
    });
    expect(status()).toMatchObject({
      ok: true,
      sentence: peerSentences.ok,
      snapshotId: fullId,
      bytes: 66000,
      targetId: target,
    });
    expect(left()).toEqual({ work: false, copies: ['data.img'] });
    // The volume changed: the next run in the same month backs up again and checks a tenth.
    writeFileSync(dataFile(), Buffer.alloc(65536, 8));
    expect(run().status).toBe(0);
    expect(backups()).toBe(2);
    expect(recorded()).toContain('restic check --read-data-subset=1/10');
  });

  it('writes the laptop’s manifest fields and tags, exactly, with the initrd beside the image', () => {
    writeFileSync(join(appDir(), 'images', initrd), 'the initrd!');
    writeSpec({ name: 'Zähler & Co, 2', version: '1.0.0+build 5 (ß)', initrdSha256: initrd });
    const started = Date.now();
    expect(run().status).toBe(0);
    expect(tarMembers()).toEqual([
      volumeMember('data'),
      imageMember(image),
      imageMember(initrd),
      'spec.json',
      'hearth-backup.json',
    ]);
    // Every field the laptop writes (takenAt and pausedMs are tags now: read, never written).
    const written = Object.keys(backupManifestSchema.shape).filter(
      (k) => k !== 'takenAt' && k !== 'pausedMs',
    );
    expect(Object.keys(rawManifest()).sort()).toEqual(written.sort());
    expect(rawManifest()).toMatchObject({
      appName: 'Zähler & Co, 2',
      appVersion: '1.0.0+build 5 (ß)',
      initrd: { sha256: initrd, sizeBytes: 11 },
    });
    const args = readFileSync(join(dir, 'backup-args'), 'utf8').trim().split('\n');
    const tags = args.flatMap((a, i) => (args[i - 1] === '--tag' ? [a] : []));
    expect(tags[0]).toBe('hearth');
    const facts = parsePointTags(tags);
    expect(facts).toMatchObject({
      appId: 'counter',
      appName: 'Zähler & Co, 2',
      appVersion: '1.0.0+build 5 (ß)',
      sizeBytes: 65536 + 10 + 11,
      volumes: ['data'],
    });
    expect(facts.takenAt).toBeGreaterThanOrEqual(started - 1000);
    expect(facts.pausedMs).toBeGreaterThanOrEqual(0);
    // Percent-encoded as encodeURIComponent does: no comma or space splits a tag.
    expect(tags).toContain(`name=${encodeURIComponent('Zähler & Co, 2')}`);
    expect(args).toContain('counter.tar');
  });

  it('makes no snapshot when nothing changed since the last point, and says so as a success', () => {
    expect(run().status).toBe(0);
    expect(backups()).toBe(1);
    const r = run();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(fullId);
    expect(backups()).toBe(1);
    expect(status()).toMatchObject({
      ok: true,
      sentence: peerSentences.unchanged,
      snapshotId: fullId,
      bytes: 66000,
    });
    // It still paused for its copy: the copy's hash is what tells.
    expect(recorded().filter((l) => l === 'qmp stop')).toHaveLength(2);
    expect(left()).toEqual({ work: false, copies: ['data.img'] });
  });

  it('still reads the whole repository once a month when nothing changed, and reports damage', () => {
    expect(run().status).toBe(0);
    const fullReads = () => recorded().filter((l) => l === 'restic check --read-data').length;
    expect(fullReads()).toBe(1);
    expect(run().status).toBe(0);
    expect(fullReads()).toBe(1);
    // The month turned: the next unchanged run owes it a full read.
    writeFileSync(join(appDir(), 'state', 'peer-backup-checked'), '2000-01\n');
    expect(run().status).toBe(0);
    expect(backups()).toBe(1);
    expect(fullReads()).toBe(2);
    expect(status()).toMatchObject({ ok: true, sentence: peerSentences.unchanged });
    writeFileSync(join(appDir(), 'state', 'peer-backup-checked'), '2000-01\n');
    rewriteFake(
      'restic',
      'exit 0\n',
      '[ "$1" = check ] && { echo "pack damaged" >&2; exit 1; }\nexit 0\n',
    );
    expect(run().status).toBe(1);
    expect(backups()).toBe(1);
    expect(status()).toMatchObject({
      ok: false,
      sentence: peerSentences.damaged,
      snapshotId: fullId,
    });
  });

  it('backs up again when a volume was touched, the spec changed, or the point is gone', () => {
    expect(run().status).toBe(0);
    // The same bytes written again: the identity differs, so the run is a full one.
    writeFileSync(dataFile(), volume);
    expect(run().status).toBe(0);
    expect(backups()).toBe(2);
    writeSpec({ version: '1.0.1' });
    expect(run().status).toBe(0);
    expect(backups()).toBe(3);
    expect(run().status).toBe(0);
    expect(backups()).toBe(3);
    writeFileSync(join(dir, 'repo-empty'), '');
    expect(run().status).toBe(0);
    expect(backups()).toBe(4);
  });

  it('never skips from a point whose check failed', () => {
    writeFileSync(
      join(dir, 'bin', 'restic-check-fails'),
      '', // marker only
    );
    rewriteFake(
      'restic',
      'exit 0\n',
      `[ "$1" = check ] && [ -e ${dir}/bin/restic-check-fails ] && { echo "pack damaged" >&2; exit 1; }\nexit 0\n`,
    );
    expect(run().status).toBe(1);
    expect(status()).toMatchObject({ ok: false, sentence: peerSentences.damaged });
    rmSync(join(dir, 'bin', 'restic-check-fails'));
    expect(run().status).toBe(0);
    expect(backups()).toBe(2);
  });

  it('resumes the app and leaves nothing behind when the device runs out of space', () => {
    writeFileSync(join(dir, 'disk-full'), '');
    expect(run().status).toBe(1);
    const log = recorded();
    expect(log).toContain('qmp stop');
    expect(log).toContain('qmp cont');
    expect(existsSync(join(dir, 'vm-paused'))).toBe(false);
    expect(backups()).toBe(0);
    expect(status()).toMatchObject({
      ok: false,
      sentence: peerSentences.diskFull,
      snapshotId: null,
    });
    expect(left()).toEqual({ work: false, copies: ['data.img'] });
  });

  it('takes no backup of an app that was not running and woke to write its data meanwhile', () => {
    // Asleep (its unit is not active), so nothing is paused; a visit wakes it during the copy.
    rmSync(join(dir, 'vm-running'));
    writeFileSync(
      join(dir, 'bin', 'cp'),
      `#!/bin/sh\n/bin/cp "$@" || exit 1\nfor a; do last=$a; done\ncase "$last" in *.partial) sleep 0.02; echo visit >> ${dataFile()} ;; esac\n`,
      { mode: 0o755 },
    );
    expect(run().status).toBe(1);
    expect(recorded().some((l) => l.startsWith('qmp stop'))).toBe(false);
    expect(backups()).toBe(0);
    expect(status()).toMatchObject({ ok: false, sentence: peerSentences.woke, snapshotId: null });
    expect(left().work).toBe(false);
  });

  it('never pauses the app when the repository does not open, and says why', () => {
    writeFileSync(join(dir, 'wrong-password'), '');
    expect(run().status).toBe(1);
    expect(recorded().some((l) => l.startsWith('qmp'))).toBe(false);
    expect(status()).toMatchObject({ ok: false, sentence: peerSentences.wrongPassword });
  });

  it('refuses a running app it cannot pause', () => {
    rmSync(join(appDir(), 'qmp'));
    expect(run().status).toBe(1);
    expect(status()).toMatchObject({ ok: false, sentence: peerSentences.pause });
    expect(backups()).toBe(0);
    expect(left()).toEqual({ work: false, copies: ['data.img'] });
  });

  it('runs once at a time', () => {
    mkdirSync(join(appDir(), 'state'), { recursive: true });
    const held = spawnSync(
      'sh',
      [
        '-c',
        `exec 9>>${join(appDir(), 'state', 'backup.lock')}; flock 9; ${join(dir, 'peer-backup')} run counter`,
      ],
      { encoding: 'utf8', env: {} },
    );
    expect(held.status).toBe(4);
    expect(held.stderr).toContain('a backup or restore of counter is running');
  });

  it('resumes the app by itself when the script is killed mid-copy', async () => {
    writeFileSync(join(dir, 'cp-delay'), '2');
    const child = spawn(join(dir, 'peer-backup'), ['run', 'counter'], {
      env: {},
      stdio: 'ignore',
      detached: true,
    });
    await expect.poll(() => existsSync(join(dir, 'vm-paused')), { timeout: 10_000 }).toBe(true);
    process.kill(-child.pid!, 'SIGKILL');
    await expect.poll(() => existsSync(join(dir, 'vm-paused')), { timeout: 15_000 }).toBe(false);
    expect(recorded()).toContain('qmp cont');
    expect(backups()).toBe(0);
  });
});

describe('a Xen app’s run: xl pause and unpause through the root agent', () => {
  beforeEach(() => {
    rmSync(join(appDir(), 'qmp'));
    writeSpec({ target: 'xen-x86_64' });
  });

  it('pauses the domain only for the copy', () => {
    const r = run();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const log = recorded();
    expect(log).toContain('xl pause hearth-counter');
    expect(log.indexOf('xl pause hearth-counter')).toBeLessThan(
      log.indexOf('xl unpause hearth-counter'),
    );
    expect(log.indexOf('xl unpause hearth-counter')).toBeLessThan(at('restic backup'));
    expect(existsSync(join(dir, 'vm-paused'))).toBe(false);
    expect(status()).toMatchObject({ ok: true, sentence: peerSentences.ok });
  });

  it('unpauses after a copy that failed, and leaves a domain paused by someone else as it was', () => {
    writeFileSync(join(dir, 'disk-full'), '');
    expect(run().status).toBe(1);
    expect(recorded()).toContain('xl unpause hearth-counter');
    expect(existsSync(join(dir, 'vm-paused'))).toBe(false);
    rmSync(join(dir, 'disk-full'));
    rmSync(calls);
    writeFileSync(join(dir, 'vm-paused'), '');
    expect(run().status).toBe(0);
    expect(recorded().filter((l) => /^xl (un)?pause/.test(l))).toEqual([]);
    expect(existsSync(join(dir, 'vm-paused'))).toBe(true);
  });

  it('asks again when xl does not answer for a moment, so the domain is not left paused', () => {
    writeFileSync(join(dir, 'xl-busy-once'), '');
    const r = run();
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, 'xl-busy-once'))).toBe(false);
    expect(recorded()).toContain('xl unpause hearth-counter');
    expect(existsSync(join(dir, 'vm-paused'))).toBe(false);
  });

  it('copies a stopped app without asking xl anything', () => {
    rmSync(join(dir, 'vm-running'));
    expect(run().status).toBe(0);
    expect(recorded().some((l) => l.startsWith('xl'))).toBe(false);
  });

  it('says the app could not be paused when xl refuses', () => {
    rewriteFake('xl', '  pause)', '  pause) echo "libxl: error" >&2; exit 1 ;;\n  x)');
    expect(run().status).toBe(1);
    expect(status()).toMatchObject({ ok: false, sentence: peerSentences.pause });
    expect(backups()).toBe(0);
  });
});

describe('each side restores what the other wrote', () => {
  it('the laptop’s reader takes the device’s tar: every member matches its manifest', async () => {
    // Images named by their real sha256, as the installer places them.
    const [kernel, ramdisk] = [sha('the kernel'), sha('the initrd!')];
    writeFileSync(join(appDir(), 'images', kernel), 'the kernel');
    writeFileSync(join(appDir(), 'images', ramdisk), 'the initrd!');
    rmSync(join(appDir(), 'current'));
    symlinkSync(`images/${kernel}`, join(appDir(), 'current'));
    writeSpec({ sha256: kernel, initrdSha256: ramdisk });
    expect(run().status).toBe(0);
    const seen: string[] = [];
    const { manifest, members } = await unpackBackup(
      createReadStream(join(dir, 'stream.tar')),
      async (entry) => {
        seen.push(entry.name);
        for await (const _ of entry.stream) void _;
      },
    );
    expect(members.map((m) => m.name)).toEqual(seen);
    expect(manifestMismatches(manifest, members)).toEqual([]);
    expect(manifest.initrd).toEqual({ sha256: ramdisk, sizeBytes: 11 });
    expect(seen).toEqual([
      volumeMember('data'),
      imageMember(kernel),
      imageMember(ramdisk),
      'spec.json',
    ]);
  });

  it('the device’s restore takes the laptop’s tar: the manifest back, each volume as hashed', async () => {
    const data = Buffer.alloc(70_000, 3);
    const spec = Buffer.from(readFileSync(join(appDir(), 'spec.json')));
    const packed = packBackup(
      [
        { name: volumeMember('data'), size: data.length, stream: Readable.from([data]) },
        { name: imageMember(image), content: Buffer.from('the kernel') },
        { name: 'spec.json', content: spec },
      ],
      (m) => ({
        format: 1,
        deviceId,
        appId: 'counter',
        appName: 'Counter',
        appVersion: '1.0.0',
        volumes: [{ name: 'data', sizeBytes: data.length, sha256: m[0]!.sha256 }],
        image: { sha256: image, sizeBytes: 10 },
      }),
    );
    await writeFile(join(dir, 'dump.tar'), packed);
    const r = run(['fetch', 'counter', 'abcd1234']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const manifest = backupManifestSchema.parse(JSON.parse(r.stdout));
    expect(manifest.volumes).toEqual([{ name: 'data', sizeBytes: 70_000, sha256: sha(data) }]);
    expect(sha(readFileSync(join(appDir(), 'restore', 'volumes', 'data.img')))).toBe(sha(data));
  });
});
