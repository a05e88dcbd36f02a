// The real scripts DeviceClient sends, run by sh on this machine against a folder that stands in
// for the device's /var/lib/hearth (FakeDevice proves the services' logic; this proves that the
// scripts do what FakeDevice pretends they do). Operations that go through systemd or the root
// agent are left to the lab's real devices.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecResult, SshSession, UploadOptions, UploadResult } from '../ssh/ssh-session';
import type { ExecStream, ExecStreamOptions } from '../ssh/ssh-session';
import { HearthError } from '../../../shared/errors';
import { FakeSshDevice } from '../ssh/fake-ssh-device';
import { connectSsh } from '../ssh/ssh-connect';
import { BOOT_MARKER } from './app-status-report';
import { DeviceClient } from './device-client';
import { agentScript } from './agent-script';
import { appPaths, deviceLayout } from './layout';

const DEVICE = '0f8fad5b-d9cb-469f-a165-70867728950e';
const p = appPaths('counter');
const never = new AbortController().signal;

/** An SshSession that runs each command with sh here, under `root` instead of /. */
class LocalShell implements SshSession {
  readonly hostKeyFingerprint = 'SHA256:local';
  readonly closed = Promise.resolve();
  /** Uploads arrive with their last byte flipped. */
  damage = false;
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  at(path: string): string {
    return path.replaceAll(deviceLayout.stateDir, `${this.root}${deviceLayout.stateDir}`);
  }

  exec(command: string): Promise<ExecResult> {
    const result = spawnSync('sh', ['-c', this.at(command)], {
      encoding: 'utf8',
      env: { PATH: `${this.root}/bin:/usr/bin:/bin`, LC_ALL: 'C' },
    });
    return Promise.resolve({
      code: result.status,
      signal: result.signal,
      stdout: result.stdout,
      stderr: result.stderr,
    });
  }

  /** Like an SSH channel: stdin piped in, stdout streamed out, cancel kills the command. */
  execStream(command: string, options: ExecStreamOptions = {}): ExecStream {
    const child = spawn('sh', ['-c', this.at(command)], {
      env: { PATH: `${this.root}/bin:/usr/bin:/bin`, LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.on('error', () => undefined);
    if (options.stdin) options.stdin.pipe(child.stdin);
    else child.stdin.end();
    const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>(
      (resolve, reject) => {
        const onAbort = () => {
          // The whole command, as a closed channel ends it (cat included).
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
          reject(new HearthError('CANCELLED'));
        };
        options.signal?.addEventListener('abort', onAbort, { once: true });
        child.on('close', (code, signal) => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve({ code, signal, stderr });
        });
      },
    );
    return { stdout: child.stdout, done };
  }

  writeFile(remotePath: string, data: Buffer | string, mode = 0o644): Promise<void> {
    mkdirSync(dirname(this.at(remotePath)), { recursive: true });
    writeFileSync(this.at(remotePath), data, { mode });
    return Promise.resolve();
  }

  uploadFile(remotePath: string, localPath: string, options: UploadOptions): Promise<UploadResult> {
    const data = Buffer.from(readFileSync(localPath));
    const target = this.at(remotePath);
    const already = existsSync(target) ? statSync(target).size : 0;
    if (this.damage) data[data.length - 1] = (data.at(-1) ?? 0) ^ 0xff;
    writeFileSync(target, data, { mode: options.mode });
    return Promise.resolve({
      resumedFrom: already <= data.length ? already : 0,
      size: data.length,
    });
  }

  close(): void {}
}

/**
 * The "connection": the foreground script in its own process group, SIGKILLed (with all of that
 * group) as soon as `dies` says so (the VM is paused), as sshd's end of a dead link would be.
 */
class DyingShell extends LocalShell {
  readonly #dies: () => boolean;

  constructor(root: string, dies: () => boolean) {
    super(root);
    this.#dies = dies;
  }

  override exec(command: string): Promise<ExecResult> {
    const child = spawn('sh', ['-c', this.at(command)], {
      env: { PATH: `${this.root}/bin:/usr/bin:/bin`, LC_ALL: 'C' },
      stdio: 'ignore',
      detached: true,
    });
    return new Promise((resolve) => {
      const watch = setInterval(() => {
        if (this.#dies() && child.pid) {
          clearInterval(watch);
          process.kill(-child.pid, 'SIGKILL');
        }
      }, 10);
      child.on('close', (code, signal) => {
        clearInterval(watch);
        resolve({ code, signal, stdout: '', stderr: '' });
      });
    });
  }
}

let root: string;
let shell: LocalShell;
let client: DeviceClient;
const local = (path: string) => shell.at(path);
const put = (path: string, content: string | Buffer) => {
  mkdirSync(dirname(local(path)), { recursive: true });
  writeFileSync(local(path), content);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'hearth-scripts-'));
  // sudo as a device prepared by an older Hearth answers it when refuses-agent exists.
  mkdirSync(join(root, 'bin'));
  writeFileSync(
    join(root, 'bin', 'sudo'),
    `#!/bin/sh\nif [ -e ${root}/refuses-agent ]; then echo 'sudo: a password is required' >&2; exit 1; fi\nexit 0\n`,
    { mode: 0o755 },
  );
  shell = new LocalShell(root);
  client = new DeviceClient(shell, DEVICE);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function image(content: string) {
  const path = join(root, `local-${content.length}`);
  writeFileSync(path, content);
  return { path, sha256: createHash('sha256').update(content).digest('hex') };
}

describe('the real scripts, under sh', () => {
  it('prepares a folder and lists folders by app id', async () => {
    expect(await client.appFolders()).toEqual([]);
    await client.prepareAppFolder('counter');
    expect(statSync(local(p.images)).isDirectory()).toBe(true);
    expect(statSync(local(p.data)).isDirectory()).toBe(true);
    expect(statSync(local(p.dir)).mode & 0o777).toBe(0o750);
    mkdirSync(local(`${deviceLayout.appsDir}/Not_An_Id`));
    expect(await client.appFolders()).toEqual(['counter']);
  });

  it('places an image once, read-only, and resumes nothing it does not need', async () => {
    const kernel = image('kernel bytes');
    await client.prepareAppFolder('counter');
    const options = { signal: never, onProgress: () => undefined };
    expect(await client.placeImage('counter', kernel.sha256, kernel.path, options)).toEqual({
      placed: true,
      resumedFrom: 0,
    });
    expect(readFileSync(local(p.image(kernel.sha256)), 'utf8')).toBe('kernel bytes');
    expect(statSync(local(p.image(kernel.sha256))).mode & 0o777).toBe(0o444);
    expect(existsSync(local(p.partialImage(kernel.sha256)))).toBe(false);
    expect(await client.placeImage('counter', kernel.sha256, kernel.path, options)).toEqual({
      placed: false,
      resumedFrom: 0,
    });
  });

  it('throws a damaged upload away', async () => {
    const kernel = image('kernel bytes');
    await client.prepareAppFolder('counter');
    shell.damage = true;
    await expect(
      client.placeImage('counter', kernel.sha256, kernel.path, {
        signal: never,
        onProgress: () => undefined,
      }),
    ).rejects.toMatchObject({ code: 'APP_DAMAGED_IN_TRANSIT' });
    expect(existsSync(local(p.partialImage(kernel.sha256)))).toBe(false);
    expect(existsSync(local(p.image(kernel.sha256)))).toBe(false);
  });

  it('says whether images are intact: all there and matching, or not', async () => {
    const kernel = image('kernel');
    const initrd = image('initrd!');
    put(p.image(kernel.sha256), 'kernel');
    expect(await client.imagesIntact('counter', [kernel.sha256])).toBe(true);
    // One of them missing is "not intact", as FakeDevice says, not a failed step.
    expect(await client.imagesIntact('counter', [kernel.sha256, initrd.sha256])).toBe(false);
    put(p.image(initrd.sha256), 'initrd?');
    expect(await client.imagesIntact('counter', [kernel.sha256, initrd.sha256])).toBe(false);
    put(p.image(initrd.sha256), 'initrd!');
    expect(await client.imagesIntact('counter', [kernel.sha256, initrd.sha256])).toBe(true);
  });

  it('creates sparse volumes of their size and keeps the ones there', async () => {
    await client.prepareAppFolder('counter');
    const volumes = [
      { name: 'storage', sizeMiB: 64 },
      { name: 'cache', sizeMiB: 2 },
    ];
    expect(await client.ensureVolumes('counter', volumes)).toBe(true);
    expect(statSync(local(p.volume('storage'))).size).toBe(64 * 1024 ** 2);
    expect(statSync(local(p.volume('cache'))).size).toBe(2 * 1024 ** 2);
    writeFileSync(local(p.volume('storage')), 'the data');
    expect(await client.ensureVolumes('counter', volumes)).toBe(false);
    expect(readFileSync(local(p.volume('storage')), 'utf8')).toBe('the data');
  });

  it('fails the step when one volume cannot be made, even if a later one is there', async () => {
    await client.prepareAppFolder('counter');
    // Something in the way of the first volume's temporary file: truncate cannot write it.
    mkdirSync(local(`${p.volume('storage')}.new`));
    put(p.volume('cache'), 'kept');
    await expect(
      client.ensureVolumes('counter', [
        { name: 'storage', sizeMiB: 64 },
        { name: 'cache', sizeMiB: 2 },
      ]),
    ).rejects.toMatchObject({
      code: 'DEVICE_STEP_FAILED',
      message:
        'The device could not create its storage. Try again; Hearth picks up where it stopped.',
    });
    expect(existsSync(local(p.volume('storage')))).toBe(false);
  });

  it('reads the install facts: the marker, and the earlier spec.json', async () => {
    put(p.spec, '{"appId":"counter","accel":"tcg"}\n');
    expect((await client.installFacts('counter')).specText).toBe(
      '{"appId":"counter","accel":"tcg"}',
    );
    await client.markKvmUnusable();
    expect(existsSync(local(deviceLayout.kvmUnusable))).toBe(true);
    expect((await client.installFacts('counter')).kvmUsable).toBe(false);
  });

  it('writes app files with their mode, renamed into place', async () => {
    await client.prepareAppFolder('counter');
    await client.writeAppFiles('counter', [
      { name: 'run', content: '#!/bin/sh\n', mode: '0755' },
      { name: 'data/.hearth-origin', content: 'file\n', mode: '0644' },
    ]);
    expect(readFileSync(local(p.run), 'utf8')).toBe('#!/bin/sh\n');
    expect(statSync(local(p.run)).mode & 0o777).toBe(0o755);
    expect(existsSync(local(`${p.run}.hearth-new`))).toBe(false);
    expect(await client.origin('counter')).toBe('file');
  });

  it('switches current to the image, again and again', async () => {
    await client.prepareAppFolder('counter');
    await client.switchCurrent('counter', 'a'.repeat(64));
    await client.switchCurrent('counter', 'b'.repeat(64));
    expect(readlinkSync(local(p.current))).toBe(`images/${'b'.repeat(64)}`);
    expect(existsSync(local(`${p.dir}/current.new`))).toBe(false);
  });

  it('reads the console by offsets, and a rotated log by its new size', async () => {
    put(p.consoleLog, 'one\ntwo\nthree\n');
    expect(await client.consoleTail('counter', 6)).toEqual({ size: 14, text: 'three\n' });
    expect(await client.consoleSince('counter', 4)).toEqual({ size: 14, text: 'two\nthree\n' });
    expect(await client.consoleSince('counter', 4, 4)).toEqual({ size: 14, text: 'two\n' });
    expect(await client.consoleSince('counter', 14)).toEqual({ size: 14, text: '' });
    put(p.consoleLog, 'new\n');
    expect(await client.consoleSince('counter', 14)).toEqual({ size: 4, text: '' });
    rmSync(local(p.consoleLog));
    expect(await client.consoleTail('counter')).toEqual({ size: 0, text: '' });
  });

  it('judges the health pattern on the last boot only', async () => {
    put(p.consoleLog, `${BOOT_MARKER} counter ---\nready\n${BOOT_MARKER} counter ---\nbooting\n`);
    expect(await client.consoleShows('counter', 'ready')).toBe(false);
    expect(await client.consoleShows('counter', 'booting')).toBe(true);
  });

  it('finds an unfinished install by its partial image', async () => {
    const sha = 'c'.repeat(64);
    put(appPaths('web').partialImage(sha), 'half');
    expect(await client.unfinishedInstallOf(sha)).toBe('web');
    put(appPaths('web').spec, '{}');
    expect(await client.unfinishedInstallOf(sha)).toBeNull();
  });

  it('round-trips a state file and reads garbage as none', async () => {
    await client.prepareAppFolder('counter');
    await client.writeState('counter', 'update', { phase: 'staged' });
    expect(await client.readState('counter', 'update')).toEqual({ phase: 'staged' });
    put(p.state('update'), 'not json');
    expect(await client.readState('counter', 'update')).toBeNull();
  });

  it('copies a volume under a tag', async () => {
    put(p.volume('storage'), 'the data');
    const to = await client.copyVolume('counter', 'storage', 'backup-1');
    expect(readFileSync(local(to), 'utf8')).toBe('the data');
    expect(existsSync(local(`${to}.partial`))).toBe(false);
  });

  it('removes an app only once the agent stopped and disabled it', async () => {
    put(p.spec, '{}');
    put(p.volume('storage'), 'the data');
    writeFileSync(join(root, 'refuses-agent'), '');
    await expect(client.removeApp('counter', false)).rejects.toMatchObject({
      code: 'DEVICE_NEEDS_PREPARING',
    });
    expect(existsSync(local(p.spec))).toBe(true);
    rmSync(join(root, 'refuses-agent'));
    await client.removeApp('counter', false);
    expect(existsSync(local(p.spec))).toBe(false);
    expect(readFileSync(local(p.volume('storage')), 'utf8')).toBe('the data');
  });

  it('tells where an app came from, by its record or, for older folders, by its spec', async () => {
    expect(await client.origin('counter')).toBeNull();
    put(p.spec, '{"appId":"counter","version":"file 0123456789ab"}');
    expect(await client.origin('counter')).toBe('file');
    put(p.spec, '{"appId":"counter","version":"1.0.0"}');
    expect(await client.origin('counter')).toBe('catalog');
    await client.setOrigin('counter', 'file');
    expect(await client.origin('counter')).toBe('file');
  });

  it('resumes only installs from a file, never a catalog app’s unfinished folder', async () => {
    const sha = 'e'.repeat(64);
    put(p.partialImage(sha), 'part');
    put(p.origin, 'catalog\n');
    expect(await client.unfinishedInstallOf(sha)).toBeNull();
    put(p.origin, 'file\n');
    expect(await client.unfinishedInstallOf(sha)).toBe('counter');
  });
});

// --- Backups and restores ----------------------------------------------------------------------

const isRoot = process.getuid?.() === 0;
const TAG = 'run-1';

/**
 * A stand-in for <app>/qmp: records every command in qmp.log and keeps the VM's state in
 * vm-state (running | paused); without that file the VM is off and QMP cannot be reached.
 */
function standInQmp() {
  const state = join(root, 'vm-state');
  put(
    p.qmp,
    // The command is logged once it has taken effect: a test that sees "cont" in the log
    // must find the VM running.
    `#!/bin/sh
[ -e ${state} ] || { echo "$1" >> ${root}/qmp.log; echo "qmp: cannot reach" >&2; exit 4; }
case "$1" in
  query-status) if [ "$(cat ${state})" = running ]; then echo '{"return": {"status": "running", "running": true}}'; else echo '{"return": {"status": "paused", "running": false}}'; fi ;;
  stop) echo paused > ${state}.new && mv ${state}.new ${state} ;;
  cont) echo running > ${state}.new && mv ${state}.new ${state} ;;
esac
echo "$1" >> ${root}/qmp.log
`,
  );
  spawnSync('chmod', ['0755', local(p.qmp)]);
  // cp as the device has it, slowed down by cp-delay (seconds), or first filling the disk.
  writeFileSync(
    join(root, 'bin', 'cp'),
    `#!/bin/sh
[ -s ${root}/cp-delay ] && sleep "$(cat ${root}/cp-delay)"
[ -e ${root}/cp-fills-disk ] && head -c 64M /dev/zero > ${local(p.data)}/.filler 2>/dev/null
exec /bin/cp "$@"
`,
    { mode: 0o755 },
  );
}

const vmRunning = () => writeFileSync(join(root, 'vm-state'), 'running');
const vmState = () => readFileSync(join(root, 'vm-state'), 'utf8').trim();
const qmpLog = () =>
  existsSync(join(root, 'qmp.log')) ? readFileSync(join(root, 'qmp.log'), 'utf8') : '';
const dataFiles = () => readdirSync(local(p.data)).sort();
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** What the device's stat says of a file, as snapshotVolumes reports it. */
function statIdentity(path: string) {
  const st = statSync(path, { bigint: true });
  const time = (ns: bigint) =>
    `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
  return {
    sizeBytes: Number(st.size),
    mtime: time(st.mtimeNs),
    ctime: time(st.ctimeNs),
    inode: String(st.ino),
  };
}

async function failure(promise: Promise<unknown>): Promise<HearthError> {
  const error = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HearthError);
  return error as HearthError;
}

/** removeStaleCopies, as 'removed' or the error code (BACKUP_BUSY while a copy runs). */
const cleanUp = () =>
  client.removeStaleCopies('counter').then(
    () => 'removed',
    (error: HearthError) => error.code,
  );

let mounted: string | null = null;
/** A small filesystem for the data folder (root only): tmpfs of `sizeKiB`. */
function smallDataDisk(sizeKiB: number): void {
  mkdirSync(local(p.data), { recursive: true });
  const out = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', local(p.data)]);
  if (out.status !== 0) throw new Error(`mount failed: ${String(out.stderr)}`);
  mounted = local(p.data);
}
afterEach(() => {
  // Lazily: a process of the test still inside it must not leave the mount behind.
  if (mounted) spawnSync('umount', ['-l', mounted]);
  mounted = null;
});

function skipUnlessRoot(ctx: { skip: (note?: string) => void }): void {
  if (isRoot) return;
  console.warn('skipped: a small disk needs a tmpfs mount, which needs root (CI runs as root)');
  ctx.skip('needs root for a tmpfs mount');
}

describe('snapshots under sh', () => {
  beforeEach(() => {
    standInQmp();
    put(p.volume('storage'), 'the data');
    put(p.volume('cache'), Buffer.alloc(300_000, 7));
  });

  it('pauses a running app, copies each volume, resumes, and says how long', async () => {
    vmRunning();
    const result = await client.snapshotVolumes('counter', ['storage', 'cache'], TAG);
    expect(result.wasRunning).toBe(true);
    expect(result.pausedMs).toBeGreaterThanOrEqual(0);
    expect(result.copies).toEqual([
      {
        volume: 'storage',
        path: p.volumeCopy('storage', TAG),
        sizeBytes: 8,
        identity: statIdentity(local(p.volume('storage'))),
      },
      {
        volume: 'cache',
        path: p.volumeCopy('cache', TAG),
        sizeBytes: 300_000,
        identity: statIdentity(local(p.volume('cache'))),
      },
    ]);
    expect(readFileSync(local(p.volumeCopy('storage', TAG)), 'utf8')).toBe('the data');
    expect(readFileSync(local(p.volumeCopy('cache', TAG)))).toEqual(Buffer.alloc(300_000, 7));
    expect(qmpLog()).toBe('query-status\nstop\ncont\n');
    expect(vmState()).toBe('running');
    // Nothing of the run but the copies: no partial, no verdict file.
    expect(dataFiles()).toEqual(
      ['cache.img', `cache.img.${TAG}`, 'storage.img', `storage.img.${TAG}`].sort(),
    );
  });

  it('gives another identity once the volume was written, and hashes the copies on the device', async () => {
    const first = await client.snapshotVolumes('counter', ['storage', 'cache'], TAG);
    const again = await client.snapshotVolumes('counter', ['storage', 'cache'], 'run-2');
    expect(again.copies.map((c) => c.identity)).toEqual(first.copies.map((c) => c.identity));
    // The same size, and the mtime put back as it was: the ctime still tells.
    writeFileSync(local(p.volume('storage')), 'THE DATA');
    const mtime = statSync(local(p.volume('storage'))).mtime;
    spawnSync('touch', [
      '-m',
      '-d',
      `@${first.copies[0]!.identity!.mtime}`,
      local(p.volume('storage')),
    ]);
    expect(statSync(local(p.volume('storage'))).mtime.getTime()).toBeLessThanOrEqual(
      mtime.getTime(),
    );
    const changed = await client.snapshotVolumes('counter', ['storage', 'cache'], 'run-3');
    expect(changed.copies[0]!.identity).not.toEqual(first.copies[0]!.identity);
    expect(changed.copies[0]!.identity!.mtime).toBe(first.copies[0]!.identity!.mtime);
    expect(changed.copies[1]!.identity).toEqual(first.copies[1]!.identity);
    const hashes = await client.hashCopies('counter', 'run-3', ['storage', 'cache']);
    expect(Object.fromEntries(hashes)).toEqual({
      storage: sha('THE DATA'),
      cache: sha(Buffer.alloc(300_000, 7)),
    });
  });

  it('refuses to hash a copy that is missing or a link', async () => {
    await client.snapshotVolumes('counter', ['storage'], TAG);
    await expect(client.hashCopies('counter', TAG, ['cache'])).rejects.toBeInstanceOf(HearthError);
    put(join(root, 'elsewhere'), 'not hearth data');
    rmSync(local(p.volumeCopy('storage', TAG)));
    symlinkSync(join(root, 'elsewhere'), local(p.volumeCopy('storage', TAG)));
    await expect(client.hashCopies('counter', TAG, ['storage'])).rejects.toBeInstanceOf(
      HearthError,
    );
  });

  it('copies a stopped app without pausing it', async () => {
    const result = await client.snapshotVolumes('counter', ['storage'], TAG);
    expect(result).toMatchObject({ wasRunning: false, pausedMs: 0 });
    expect(qmpLog()).toBe('query-status\n');
  });

  it('keeps a sparse volume sparse', async () => {
    const big = local(p.volume('cache'));
    spawnSync('truncate', ['-s', '64M', big]);
    await client.snapshotVolumes('counter', ['cache'], TAG);
    const copy = statSync(local(p.volumeCopy('cache', TAG)));
    expect(copy.size).toBe(64 * 1024 * 1024);
    expect(copy.blocks * 512).toBeLessThan(4 * 1024 * 1024);
  });

  it('refuses a missing or symlinked volume before pausing anything', async () => {
    vmRunning();
    put(join(root, 'elsewhere'), 'not hearth data');
    rmSync(local(p.volume('storage')));
    symlinkSync(join(root, 'elsewhere'), local(p.volume('storage')));
    const error = await failure(client.snapshotVolumes('counter', ['storage'], TAG));
    expect(error.code).toBe('DEVICE_STEP_FAILED');
    expect(qmpLog()).toBe('');
    expect(existsSync(local(p.volumeCopy('storage', TAG)))).toBe(false);
    await failure(client.snapshotVolumes('counter', ['gone'], TAG));
    expect(qmpLog()).toBe('');
  });

  it('never writes through a link left at a copy or partial name', async () => {
    vmRunning();
    put(join(root, 'victim'), 'keep me');
    symlinkSync(join(root, 'victim'), local(`${p.volumeCopy('storage', TAG)}.partial`));
    symlinkSync(join(root, 'victim'), local(p.volumeCopy('storage', TAG)));
    await client.snapshotVolumes('counter', ['storage'], TAG);
    expect(readFileSync(join(root, 'victim'), 'utf8')).toBe('keep me');
    expect(lstatSync(local(p.volumeCopy('storage', TAG))).isFile()).toBe(true);
  });

  it('resumes the app and cleans up by itself when the laptop dies mid-copy', async () => {
    vmRunning();
    writeFileSync(join(root, 'cp-delay'), '2');
    const dying = new DeviceClient(new DyingShell(root, () => qmpLog().includes('stop')), DEVICE);
    await failure(dying.snapshotVolumes('counter', ['storage', 'cache'], TAG));
    expect(qmpLog()).not.toContain('cont');
    // The worker still holds the app's copy lock: neither a clean-up nor a new run interferes.
    expect((await failure(client.removeStaleCopies('counter'))).code).toBe('BACKUP_BUSY');
    expect((await failure(client.snapshotVolumes('counter', ['storage'], 'run-2'))).code).toBe(
      'BACKUP_BUSY',
    );
    await expect.poll(() => qmpLog(), { timeout: 10_000 }).toBe('query-status\nstop\ncont\n');
    expect(vmState()).toBe('running');
    await expect
      .poll(() => dataFiles().filter((name) => name.endsWith('.partial')), { timeout: 10_000 })
      .toEqual([]);
    // The worker finished on its own; what it left goes at the next run's clean-up, once
    // the worker is gone and its lock with it.
    await expect
      .poll(() => dataFiles().some((n) => n === `.hearth-snapshot-${TAG}`), { timeout: 10_000 })
      .toBe(true);
    await expect.poll(() => cleanUp(), { timeout: 10_000 }).toBe('removed');
    expect(dataFiles()).toEqual(['cache.img', 'storage.img']);
  });

  it('resumes after the watchdog time when a copy hangs, and keeps no copy', async () => {
    vmRunning();
    writeFileSync(join(root, 'cp-delay'), '30');
    const started = Date.now();
    const error = await failure(
      client.snapshotVolumes('counter', ['storage'], TAG, { watchdogSeconds: 1 }),
    );
    expect(error.code).toBe('DEVICE_STEP_FAILED');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(vmState()).toBe('running');
    expect(qmpLog()).toMatch(/^query-status\nstop\ncont\n/);
    expect(dataFiles()).toEqual(['cache.img', 'storage.img']);
  });

  it('says BACKUP_DEVICE_DISK_FULL before pausing when the copies cannot fit', async (ctx) => {
    skipUnlessRoot(ctx);
    vmRunning();
    smallDataDisk(4096);
    writeFileSync(local(p.volume('storage')), Buffer.alloc(3 * 1024 * 1024, 1));
    const error = await failure(client.snapshotVolumes('counter', ['storage'], TAG));
    expect(error.code).toBe('BACKUP_DEVICE_DISK_FULL');
    expect(error.message).toBe(
      "The device's disk is too full for the copy a backup needs; nothing was left behind. Free some space on the device (remove an app you no longer use) and try again.",
    );
    expect(qmpLog()).toBe('');
    expect(dataFiles()).toEqual(['storage.img']);
  });

  it('says BACKUP_DEVICE_DISK_FULL when the disk fills during the copy, resumed, nothing left', async (ctx) => {
    skipUnlessRoot(ctx);
    vmRunning();
    smallDataDisk(8192);
    writeFileSync(local(p.volume('storage')), Buffer.alloc(3 * 1024 * 1024, 1));
    writeFileSync(join(root, 'cp-fills-disk'), '');
    const error = await failure(client.snapshotVolumes('counter', ['storage'], TAG));
    expect(error.code).toBe('BACKUP_DEVICE_DISK_FULL');
    expect(qmpLog()).toBe('query-status\nstop\ncont\n');
    expect(vmState()).toBe('running');
    // Only the live volume and what filled the disk (not Hearth's) remain.
    expect(dataFiles()).toEqual(['.filler', 'storage.img']);
  });
});

describe('snapshots of a Xen app under sh: xl pause and unpause through the root agent', () => {
  const xlLog = () =>
    existsSync(join(root, 'xl.log')) ? readFileSync(join(root, 'xl.log'), 'utf8') : '';
  const pauses = () =>
    xlLog()
      .split('\n')
      .filter((l) => /^(un)?pause /.test(l));

  beforeEach(() => {
    standInQmp();
    rmSync(local(p.qmp));
    put(p.spec, `${JSON.stringify({ appId: 'counter', name: 'Counter', target: 'xen-x86_64' })}\n`);
    put(p.volume('storage'), 'the data');
    const state = join(root, 'vm-state');
    // xl as dom0 has it: the domain exists while vm-state does, paused when it says so.
    writeFileSync(
      join(root, 'bin', 'xl'),
      `#!/bin/sh
echo "$*" >> ${root}/xl.log
case "$1" in
  list) [ -e ${state} ] || { echo "invalid domain identifier" >&2; exit 1; }
    echo 'Name                                        ID   Mem VCPUs	State	Time(s)'
    if [ "$(cat ${state})" = paused ]; then s=--p---; else s=-b----; fi
    echo "$2 7 32 1 $s 1.5" ;;
  pause) echo paused > ${state}.new && mv ${state}.new ${state} ;;
  unpause) echo running > ${state}.new && mv ${state}.new ${state} ;;
esac
`,
      { mode: 0o755 },
    );
    writeFileSync(
      join(root, 'bin', 'systemctl'),
      `#!/bin/sh\n[ "$1" = is-active ] || exit 0\n[ -e ${state} ]\n`,
      { mode: 0o755 },
    );
    // sudo runs the real root agent, as sudoers lets the hearth account.
    writeFileSync(join(root, 'agent'), agentScript({ path: `${root}/bin:/usr/bin:/bin` }), {
      mode: 0o755,
    });
    writeFileSync(
      join(root, 'bin', 'sudo'),
      `#!/bin/sh\n[ "$1" = -n ] && shift\n[ "$1" = ${deviceLayout.agent} ] || exit 1\nshift\nexec ${root}/agent "$@"\n`,
      { mode: 0o755 },
    );
  });

  it('pauses the running domain for the copy only, and unpauses it', async () => {
    vmRunning();
    const result = await client.snapshotVolumes('counter', ['storage'], TAG);
    expect(result.wasRunning).toBe(true);
    expect(pauses()).toEqual(['pause hearth-counter', 'unpause hearth-counter']);
    expect(vmState()).toBe('running');
    expect(readFileSync(local(p.volumeCopy('storage', TAG)), 'utf8')).toBe('the data');
  });

  it('copies a domain someone else paused without pausing or unpausing it', async () => {
    writeFileSync(join(root, 'vm-state'), 'paused');
    const result = await client.snapshotVolumes('counter', ['storage'], TAG);
    expect(result).toMatchObject({ wasRunning: false, pausedMs: 0 });
    expect(pauses()).toEqual([]);
    expect(vmState()).toBe('paused');
  });

  it('unpauses the domain by itself when the laptop dies mid-copy', async () => {
    vmRunning();
    writeFileSync(join(root, 'cp-delay'), '2');
    const dying = new DeviceClient(
      new DyingShell(root, () => xlLog().includes('pause hearth-counter')),
      DEVICE,
    );
    await failure(dying.snapshotVolumes('counter', ['storage'], TAG));
    await expect
      .poll(() => pauses(), { timeout: 10_000 })
      .toEqual(['pause hearth-counter', 'unpause hearth-counter']);
    // The stand-in xl logs a command before it acts on it.
    await expect.poll(() => vmState(), { timeout: 5_000 }).toBe('running');
    await expect.poll(() => cleanUp(), { timeout: 10_000 }).toBe('removed');
    expect(dataFiles()).toEqual(['storage.img']);
  });

  it('unpauses the domain when a copy hangs past the watchdog, and keeps no copy', async () => {
    vmRunning();
    writeFileSync(join(root, 'cp-delay'), '30');
    await failure(client.snapshotVolumes('counter', ['storage'], TAG, { watchdogSeconds: 1 }));
    expect(vmState()).toBe('running');
    expect(pauses()).toEqual(['pause hearth-counter', 'unpause hearth-counter']);
    expect(dataFiles()).toEqual(['storage.img']);
  });

  it('fails without copying when the domain cannot be paused, or xl sees none', async () => {
    vmRunning();
    const xl = join(root, 'bin', 'xl');
    const fine = readFileSync(xl, 'utf8');
    writeFileSync(
      xl,
      fine.replace('  pause)', '  pause) echo "libxl: error" >&2; exit 1 ;;\n  x)'),
    );
    expect((await failure(client.snapshotVolumes('counter', ['storage'], TAG))).code).toBe(
      'DEVICE_STEP_FAILED',
    );
    expect(vmState()).toBe('running');
    expect(dataFiles()).toEqual(['storage.img']);
    // The unit runs but xl knows no domain of it: its volumes may still be in use.
    writeFileSync(xl, fine.replace('  list)', '  list) exit 1 ;;\n  x)'));
    expect((await failure(client.snapshotVolumes('counter', ['storage'], TAG))).code).toBe(
      'DEVICE_STEP_FAILED',
    );
    expect(dataFiles()).toEqual(['storage.img']);
  });
});

describe('cleaning up copies under sh', () => {
  beforeEach(() => {
    put(p.volume('storage'), 'live');
    put(p.volume('cache'), 'live');
    put(p.origin, 'catalog\n');
    for (const name of [
      `storage.img.${TAG}`,
      `storage.img.${TAG}.partial`,
      `cache.img.${TAG}`,
      'storage.img.run-0',
      'storage.img.restore-run-0.partial',
      'storage.img.restore-run-0',
      'storage.img.replaced-run-0',
      `.hearth-snapshot-${TAG}`,
      `.hearth-snapshot-${TAG}.log`,
    ])
      put(`${p.data}/${name}`, 'stale');
    put(join(root, 'outside'), 'not hearth data');
    symlinkSync(join(root, 'outside'), local(`${p.data}/cache.img.evil`));
  });

  it('removes one run’s copies only', async () => {
    await client.removeVolumeCopies('counter', TAG);
    expect(dataFiles()).toEqual(
      [
        '.hearth-origin',
        'cache.img',
        'cache.img.evil',
        'storage.img',
        'storage.img.replaced-run-0',
        'storage.img.restore-run-0',
        'storage.img.restore-run-0.partial',
        'storage.img.run-0',
      ].sort(),
    );
  });

  it('removes everything stale, links without following them, and keeps replaced volumes', async () => {
    await client.removeStaleCopies('counter');
    expect(dataFiles()).toEqual(
      ['.hearth-origin', 'cache.img', 'storage.img', 'storage.img.replaced-run-0'].sort(),
    );
    expect(readFileSync(join(root, 'outside'), 'utf8')).toBe('not hearth data');
    await client.removeStaleCopies('counter', { includeReplaced: true });
    expect(dataFiles()).toEqual(['.hearth-origin', 'cache.img', 'storage.img']);
    expect(readFileSync(local(p.volume('storage')), 'utf8')).toBe('live');
  });

  it('does nothing for an app without a data folder, and refuses a data folder that is a link', async () => {
    await client.removeStaleCopies('web');
    await client.removeVolumeCopies('web', TAG);
    mkdirSync(join(root, 'other-data'));
    put(join(root, 'other-data', `x.img.${TAG}`), 'someone else’s');
    mkdirSync(local(appPaths('web').dir), { recursive: true });
    symlinkSync(join(root, 'other-data'), local(appPaths('web').data));
    await failure(client.removeStaleCopies('web'));
    await failure(client.removeVolumeCopies('web', TAG));
    expect(existsSync(join(root, 'other-data', `x.img.${TAG}`))).toBe(true);
  });
});

async function streamed(stream: { stdout: NodeJS.ReadableStream; done: Promise<void> }) {
  const chunks: Buffer[] = [];
  for await (const chunk of stream.stdout) chunks.push(Buffer.from(chunk));
  await stream.done;
  return Buffer.concat(chunks);
}

describe('streaming files out under sh', () => {
  it('streams a copy, and refuses paths that are not one of its copies', async () => {
    put(p.volumeCopy('storage', TAG), Buffer.alloc(2 * 1024 * 1024, 3));
    expect(
      await streamed(client.readFileStream('counter', { copy: p.volumeCopy('storage', TAG) })),
    ).toEqual(Buffer.alloc(2 * 1024 * 1024, 3));
    for (const copy of [
      p.volume('storage'),
      `${p.data}/../spec.json`,
      `${p.data}/storage.img.${TAG}/../../spec.json`,
      appPaths('web').volumeCopy('storage', TAG),
      p.restoredVolume('storage', TAG),
      `${p.volumeCopy('storage', TAG)}.partial`,
      '/etc/shadow',
      `${p.data}/Storage.img.${TAG}`,
    ])
      expect(() => client.readFileStream('counter', { copy })).toThrow('not a volume copy');
  });

  it('does not read a copy through a link', async () => {
    put(join(root, 'secret'), 'not for backups');
    mkdirSync(local(p.data), { recursive: true });
    symlinkSync(join(root, 'secret'), local(p.volumeCopy('storage', TAG)));
    const stream = client.readFileStream('counter', { copy: p.volumeCopy('storage', TAG) });
    const error = await failure(streamed(stream));
    expect(error.code).toBe('DEVICE_STEP_FAILED');
  });

  it('streams the current image and tells its hash and size first', async () => {
    const kernel = Buffer.alloc(100_000, 9);
    const hash = sha(kernel);
    expect(await client.imageSize('counter')).toBeNull();
    put(p.image(hash), kernel);
    await client.switchCurrent('counter', hash);
    expect(await client.imageSize('counter')).toEqual({ sha256: hash, sizeBytes: 100_000 });
    expect(await streamed(client.readFileStream('counter', { image: 'current' }))).toEqual(kernel);
  });

  it('streams an image file by its hash (an initrd) and tells its size; none, or a link, is refused', async () => {
    const initrd = Buffer.alloc(30_000, 5);
    const hash = sha(initrd);
    expect(await client.imageFileSize('counter', hash)).toBeNull();
    put(p.image(hash), initrd);
    expect(await client.imageFileSize('counter', hash)).toBe(30_000);
    expect(await streamed(client.readFileStream('counter', { image: hash }))).toEqual(initrd);
    put(join(root, 'secret'), 'not an image');
    const other = sha('other');
    symlinkSync(join(root, 'secret'), local(p.image(other)));
    expect(await client.imageFileSize('counter', other)).toBeNull();
    await expect(streamed(client.readFileStream('counter', { image: other }))).rejects.toThrow();
    expect(() => client.readFileStream('counter', { image: '../x' })).toThrow();
  });

  it('refuses a current that does not point at an image file', async () => {
    put(join(root, 'secret'), 'not an image');
    mkdirSync(local(p.images), { recursive: true });
    symlinkSync(join(root, 'secret'), local(p.current));
    await failure(client.imageSize('counter'));
    await failure(streamed(client.readFileStream('counter', { image: 'current' })));
    const hash = 'f'.repeat(64);
    symlinkSync(join(root, 'secret'), local(p.image(hash)));
    await client.switchCurrent('counter', hash);
    await failure(client.imageSize('counter'));
    await failure(streamed(client.readFileStream('counter', { image: 'current' })));
  });
});

function chunked(data: Buffer, size = 64 * 1024): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (at >= data.length) return void this.push(null);
      this.push(data.subarray(at, at + size));
      at += size;
    },
  });
}

describe('restores under sh', () => {
  const volume = randomBytes(3 * 1024 * 1024 + 17);

  it('receives a volume, hashed on the device, under its restore name', async () => {
    mkdirSync(local(p.data), { recursive: true });
    const seen: number[] = [];
    const result = await client.receiveVolume('counter', 'storage', TAG, chunked(volume), {
      onProgress: (bytes) => seen.push(bytes),
    });
    expect(result).toEqual({ path: p.restoredVolume('storage', TAG), sha256: sha(volume) });
    expect(readFileSync(local(result.path))).toEqual(volume);
    expect(seen.at(-1)).toBe(volume.length);
    expect(dataFiles()).toEqual([`storage.img.restore-${TAG}`]);
  });

  it(
    'writes a received volume sparse again, with the same bytes',
    { timeout: 30_000 },
    async () => {
      mkdirSync(local(p.data), { recursive: true });
      // A volume as the app left it: a little data in 6 MiB of zeros.
      const mostlyEmpty = Buffer.alloc(6 * 1024 * 1024);
      mostlyEmpty.write('counter 41', 4096);
      mostlyEmpty.write('the end', mostlyEmpty.length - 7);
      const result = await client.receiveVolume('counter', 'storage', TAG, chunked(mostlyEmpty));
      expect(result.sha256).toBe(sha(mostlyEmpty));
      const kept = local(result.path);
      expect(readFileSync(kept)).toEqual(mostlyEmpty);
      expect(statSync(kept).size).toBe(mostlyEmpty.length);
      expect(statSync(kept).blocks * 512).toBeLessThan(1024 * 1024);
    },
  );

  it('never writes through a link at the partial name', async () => {
    put(join(root, 'victim'), 'keep me');
    mkdirSync(local(p.data), { recursive: true });
    symlinkSync(join(root, 'victim'), local(`${p.restoredVolume('storage', TAG)}.partial`));
    await client.receiveVolume('counter', 'storage', TAG, chunked(Buffer.from('restored')));
    expect(readFileSync(join(root, 'victim'), 'utf8')).toBe('keep me');
    expect(readFileSync(local(p.restoredVolume('storage', TAG)), 'utf8')).toBe('restored');
  });

  it('leaves a cancelled receive’s partial for removeStaleCopies', async () => {
    mkdirSync(local(p.data), { recursive: true });
    const controller = new AbortController();
    const slow = new Readable({ read() {} });
    slow.push(Buffer.alloc(1000, 1));
    const pending = client.receiveVolume('counter', 'storage', TAG, slow, {
      signal: controller.signal,
    });
    await expect
      .poll(() => dataFiles(), { timeout: 10_000 })
      .toEqual([`storage.img.restore-${TAG}.partial`]);
    // While it is being written, no clean-up removes it.
    expect((await failure(client.removeStaleCopies('counter'))).code).toBe('BACKUP_BUSY');
    controller.abort();
    expect((await failure(pending)).code).toBe('CANCELLED');
    await client.removeStaleCopies('counter');
    expect(dataFiles()).toEqual([]);
  });

  it('says BACKUP_DEVICE_DISK_FULL when the volume cannot fit, and removes the partial', async (ctx) => {
    skipUnlessRoot(ctx);
    smallDataDisk(2048);
    const error = await failure(client.receiveVolume('counter', 'storage', TAG, chunked(volume)));
    expect(error.code).toBe('BACKUP_DEVICE_DISK_FULL');
    expect(dataFiles()).toEqual([]);
    // Told the size, the device refuses before any byte is written.
    const told = await failure(
      client.receiveVolume('counter', 'storage', TAG, chunked(volume), {
        sizeBytes: volume.length,
      }),
    );
    expect(told.code).toBe('BACKUP_DEVICE_DISK_FULL');
    expect(dataFiles()).toEqual([]);
  });

  it('swaps a restored volume in, keeping the live one by a hard link, and puts it back', async () => {
    put(p.volume('storage'), 'own data');
    put(p.restoredVolume('storage', TAG), 'restored data');
    const liveInode = statSync(local(p.volume('storage'))).ino;
    await client.swapInVolume('counter', 'storage', TAG);
    expect(readFileSync(local(p.volume('storage')), 'utf8')).toBe('restored data');
    expect(readFileSync(local(p.replacedVolume('storage', TAG)), 'utf8')).toBe('own data');
    expect(statSync(local(p.replacedVolume('storage', TAG))).ino).toBe(liveInode);
    expect(existsSync(local(p.restoredVolume('storage', TAG)))).toBe(false);
    await client.putBackVolume('counter', 'storage', TAG);
    expect(readFileSync(local(p.volume('storage')), 'utf8')).toBe('own data');
    expect(dataFiles()).toEqual(['storage.img']);
  });

  it('swaps in where there was no volume (a new device), and puts back "none"', async () => {
    put(p.restoredVolume('storage', TAG), 'restored data');
    await client.swapInVolume('counter', 'storage', TAG);
    expect(readFileSync(local(p.volume('storage')), 'utf8')).toBe('restored data');
    await client.putBackVolume('counter', 'storage', TAG);
    expect(dataFiles()).toEqual([]);
    await failure(client.putBackVolume('counter', 'storage', TAG));
  });

  it('drops the replaced volume once the restore is kept', async () => {
    put(p.volume('storage'), 'own data');
    put(p.restoredVolume('storage', TAG), 'restored data');
    await client.swapInVolume('counter', 'storage', TAG);
    await client.dropReplaced('counter', 'storage', TAG);
    expect(dataFiles()).toEqual(['storage.img']);
    expect(readFileSync(local(p.volume('storage')), 'utf8')).toBe('restored data');
  });

  it('refuses to swap in a link, or over a live volume that is a link', async () => {
    put(join(root, 'elsewhere'), 'not a restore');
    mkdirSync(local(p.data), { recursive: true });
    symlinkSync(join(root, 'elsewhere'), local(p.restoredVolume('storage', TAG)));
    await failure(client.swapInVolume('counter', 'storage', TAG));
    rmSync(local(p.restoredVolume('storage', TAG)));
    put(p.restoredVolume('storage', TAG), 'restored');
    symlinkSync(join(root, 'elsewhere'), local(p.volume('storage')));
    await failure(client.swapInVolume('counter', 'storage', TAG));
    expect(readFileSync(join(root, 'elsewhere'), 'utf8')).toBe('not a restore');
    expect(lstatSync(local(p.volume('storage'))).isSymbolicLink()).toBe(true);
  });

  it('reads spec.json as text, none when missing or a link, garbled when huge', async () => {
    expect(await client.readSpecText('counter')).toBeNull();
    put(p.spec, '{"appId":"counter"}\n');
    expect(await client.readSpecText('counter')).toBe('{"appId":"counter"}\n');
    put(p.spec, 'x'.repeat(70_000));
    expect((await failure(client.readSpecText('counter'))).code).toBe('DEVICE_GARBLED');
    rmSync(local(p.spec));
    put(join(root, 'secret'), '{"not":"a spec"}');
    symlinkSync(join(root, 'secret'), local(p.spec));
    expect(await client.readSpecText('counter')).toBeNull();
  });
});

describe('over SSH, the real scripts end to end', () => {
  let device: FakeSshDevice;
  let session: SshSession;
  let overSsh: DeviceClient;

  beforeEach(async () => {
    standInQmp();
    // Each command runs under sh here, its stdio on the channel; a channel that goes away
    // takes the command's process group with it, as a dead SSH session would at worst.
    device = await FakeSshDevice.start({
      password: 'right',
      onCommand: (command, channel) => {
        const child = spawn('sh', ['-c', shell.at(command)], {
          env: { PATH: `${root}/bin:/usr/bin:/bin`, LC_ALL: 'C' },
          detached: true,
        });
        child.stdin.on('error', () => undefined);
        channel.pipe(child.stdin);
        child.stdout.pipe(channel, { end: false });
        child.stderr.on('data', (chunk: Buffer) => channel.stderr.write(chunk));
        child.on('close', (code) => {
          channel.exit(code ?? 1);
          channel.end();
        });
        channel.on('close', () => {
          if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
        });
      },
    });
    session = await connectSsh({
      host: '127.0.0.1',
      port: device.port,
      username: 'pi',
      auth: { password: 'right' },
      hostKey: { kind: 'pinned', fingerprint: device.hostKeyFingerprint },
    });
    overSsh = new DeviceClient(session, DEVICE);
  });
  afterEach(async () => {
    session.close();
    await session.closed;
    await device.stop();
  });

  it('snapshots, streams the copy out, receives it back and swaps it in', async () => {
    vmRunning();
    const volume = randomBytes(8 * 1024 * 1024 + 3);
    put(p.volume('storage'), volume);
    const { copies, wasRunning } = await overSsh.snapshotVolumes('counter', ['storage'], TAG);
    expect(wasRunning).toBe(true);
    expect(vmState()).toBe('running');
    const copy = await streamed(overSsh.readFileStream('counter', { copy: copies[0]!.path }));
    expect(sha(copy)).toBe(sha(volume));
    const received = await overSsh.receiveVolume('counter', 'storage', 'run-2', chunked(copy));
    expect(received.sha256).toBe(sha(volume));
    await overSsh.swapInVolume('counter', 'storage', 'run-2');
    await overSsh.dropReplaced('counter', 'storage', 'run-2');
    await overSsh.removeVolumeCopies('counter', TAG);
    expect(dataFiles()).toEqual(['storage.img']);
    expect(sha(readFileSync(local(p.volume('storage'))))).toBe(sha(volume));
  });

  it('resumes the app by itself when the connection is cut mid-copy', async () => {
    vmRunning();
    put(p.volume('storage'), 'the data');
    // Long enough that the cut surely falls within the copy, also on a busy machine.
    writeFileSync(join(root, 'cp-delay'), '3');
    const pending = overSsh.snapshotVolumes('counter', ['storage'], TAG);
    await expect.poll(() => qmpLog(), { timeout: 10_000 }).toContain('stop');
    device.dropConnections();
    expect((await failure(pending)).code).toBe('CONNECTION_LOST');
    await expect.poll(() => qmpLog(), { timeout: 10_000 }).toBe('query-status\nstop\ncont\n');
    expect(vmState()).toBe('running');
    await expect
      .poll(() => dataFiles().filter((name) => name.endsWith('.partial')), { timeout: 10_000 })
      .toEqual([]);
  });

  it('leaves a receive cut mid-stream as a partial that the next clean-up removes', async () => {
    mkdirSync(local(p.data), { recursive: true });
    const input = new Readable({ read() {} });
    input.push(Buffer.alloc(256 * 1024, 1));
    const pending = overSsh.receiveVolume('counter', 'storage', TAG, input);
    await expect
      .poll(() => existsSync(local(`${p.restoredVolume('storage', TAG)}.partial`)), {
        timeout: 10_000,
      })
      .toBe(true);
    device.dropConnections();
    expect((await failure(pending)).code).toBe('CONNECTION_LOST');
    // Busy until the device has seen the channel go (the lock ends with the cat).
    await expect.poll(() => cleanUp(), { timeout: 10_000 }).toBe('removed');
    expect(dataFiles()).toEqual([]);
  });
});
