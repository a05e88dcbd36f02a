// The real scripts DeviceClient sends, run by sh on this machine against a folder that stands in
// for the device's /var/lib/hearth (FakeDevice proves the services' logic; this proves that the
// scripts do what FakeDevice pretends they do). Operations that go through systemd or the root
// agent are left to the lab's real devices.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecResult, SshSession, UploadOptions, UploadResult } from '../ssh/ssh-session';
import { BOOT_MARKER } from './app-status-report';
import { DeviceClient } from './device-client';
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
