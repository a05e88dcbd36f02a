import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import type { AgentVerb } from './agent-protocol';
import { agentCommand } from './agent-protocol';
import { BOOT_MARKER } from './app-status-report';
import { DeviceClient } from './device-client';
import { FakeDevice } from './fake-device';
import { appPaths, appUnit, deviceLayout } from './layout';
import { operationCommand } from './remote-script';

const DEVICE = '0f8fad5b-d9cb-469f-a165-70867728950e';
const counter = appPaths('counter');

const spec = {
  appId: 'counter',
  name: 'Counter',
  version: '1.0.0',
  target: 'qemu-x86_64',
  health: { kind: 'console', pattern: 'counter ready' },
};

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const never = new AbortController().signal;

let fake: FakeDevice;
let client: DeviceClient;
let dir: string;

beforeEach(() => {
  fake = new FakeDevice();
  client = new DeviceClient(fake, DEVICE);
  dir = mkdtempSync(join(tmpdir(), 'hearth-device-client-'));
});

afterEach(() => {
  // Every operation the client sent is one the device knows.
  expect(fake.unknown).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});

function localImage(content: string): { path: string; sha256: string } {
  const path = join(dir, `image-${sha(content).slice(0, 8)}`);
  writeFileSync(path, content);
  return { path, sha256: sha(content) };
}

async function rejection(promise: Promise<unknown>): Promise<HearthError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HearthError);
  return error as HearthError;
}

describe('what runs, and how it is doing', () => {
  it('reports every installed app, running and healthy, and skips folders without a spec', async () => {
    fake.installed(spec);
    const notes = { ...spec, appId: 'notes', name: 'Notes' };
    fake.installed(notes);
    fake.files.set(`${appPaths('kept').data}/notes.img`, Buffer.from('old data'));
    fake.behaviour.set('notes', 'crashes');
    fake.unit('notes').activeState = 'failed';
    fake.unit('notes').result = 'exit-code';
    const statuses = await client.appStatuses();
    expect(statuses.map((s) => s.appId)).toEqual(['counter', 'notes']);
    expect(statuses[0]).toMatchObject({
      activeState: 'active',
      subState: 'running',
      enabled: true,
      healthy: true,
      startedAt: Math.floor(fake.now / 1000) * 1000,
    });
    expect(JSON.parse(statuses[0]!.specText)).toEqual(spec);
    expect(statuses[1]).toMatchObject({ activeState: 'failed', result: 'exit-code' });
  });

  it('reads one unit as systemd sees it', async () => {
    fake.installed(spec);
    expect(await client.unitStatus('counter')).toMatchObject({
      appId: 'counter',
      activeState: 'active',
      subState: 'running',
      result: 'success',
      restarts: 0,
    });
    Object.assign(fake.unit('counter'), {
      activeState: 'failed',
      subState: 'failed',
      result: 'start-limit-hit',
      restarts: 5,
    });
    expect(await client.unitStatus('counter')).toMatchObject({
      activeState: 'failed',
      result: 'start-limit-hit',
      restarts: 5,
    });
  });

  it("reads dom0's neighbour table", async () => {
    fake.neighbourTable = ['192.168.1.23 dev xenbr0 lladdr 00:16:3e:12:34:56 REACHABLE'];
    expect(await client.neighbours()).toContain(
      '192.168.1.23 dev xenbr0 lladdr 00:16:3e:12:34:56 REACHABLE',
    );
  });

  it("judges the console's health pattern on this boot only", async () => {
    fake.installed(spec);
    expect(await client.consoleShows('counter', 'counter ready')).toBe(true);
    fake.behaviour.set('counter', 'never-ready');
    await client.control('counter', 'restart');
    // The pattern is still in the log, but from the boot before.
    expect(fake.text(counter.consoleLog)).toContain('counter ready');
    expect(await client.consoleShows('counter', 'counter ready')).toBe(false);
  });
});

describe('the console', () => {
  const log = (text: string) => fake.files.set(counter.consoleLog, Buffer.from(text));

  it('gives the tail of the log and its size', async () => {
    log('one\ntwo\nthree\n');
    expect(await client.consoleTail('counter')).toEqual({ size: 14, text: 'one\ntwo\nthree\n' });
    expect(await client.consoleTail('counter', 6)).toEqual({ size: 14, text: 'three\n' });
  });

  it('says an empty console when there is no log yet', async () => {
    expect(await client.consoleTail('counter')).toEqual({ size: 0, text: '' });
    expect(await client.consoleSince('counter', 0)).toEqual({ size: 0, text: '' });
  });

  it('reads what came after an offset, at most maxBytes, and nothing more when nothing is new', async () => {
    log('one\ntwo\n');
    expect(await client.consoleSince('counter', 4)).toEqual({ size: 8, text: 'two\n' });
    expect(await client.consoleSince('counter', 8)).toEqual({ size: 8, text: '' });
    log('one\ntwo\nthree\nfour\n');
    expect(await client.consoleSince('counter', 8, 6)).toEqual({ size: 19, text: 'three\n' });
    // A negative or fractional offset reads from the start.
    expect(await client.consoleSince('counter', -3.5, 4)).toEqual({ size: 19, text: 'one\n' });
  });

  it('shows a rotated (shorter) log by its new size and no text from the old offset', async () => {
    log('a long first log\nwith lines\n');
    const before = await client.consoleSince('counter', 0);
    log('new\n');
    const after = await client.consoleSince('counter', before.size);
    expect(after).toEqual({ size: 4, text: '' });
    expect(after.size).toBeLessThan(before.size);
  });
});

describe('app folders', () => {
  it('lists every folder, kept data included, and ignores names that are not app ids', async () => {
    expect(await client.appFolders()).toEqual([]);
    fake.installed(spec);
    fake.files.set(`${appPaths('kept').data}/notes.img`, Buffer.from('x'));
    fake.files.set(`${deviceLayout.appsDir}/Not_An_Id/spec.json`, Buffer.from('{}'));
    expect((await client.appFolders()).sort()).toEqual(['counter', 'kept']);
  });

  it('finds the unfinished install of an image (partial or whole, no spec.json yet)', async () => {
    const image = 'a'.repeat(64);
    expect(await client.unfinishedInstallOf(image)).toBeNull();
    fake.files.set(appPaths('web').partialImage(image), Buffer.from('half'));
    expect(await client.unfinishedInstallOf(image)).toBe('web');
    fake.files.delete(appPaths('web').partialImage(image));
    fake.files.set(appPaths('web').image(image), Buffer.from('whole'));
    expect(await client.unfinishedInstallOf(image)).toBe('web');
    // Finished: it has its spec.json, so it is an app, not an install to resume.
    fake.files.set(appPaths('web').spec, Buffer.from('{}'));
    expect(await client.unfinishedInstallOf(image)).toBeNull();
  });

  it('does not ask the device about something that is not a sha256', async () => {
    expect(await client.unfinishedInstallOf('../../etc')).toBeNull();
    expect(fake.operations).toEqual([]);
  });

  it('prepares the folder with room for images and data', async () => {
    await client.prepareAppFolder('counter');
    expect(await client.appFolders()).toEqual(['counter']);
    expect(fake.files.has(`${counter.images}/.dir`)).toBe(true);
    expect(fake.files.has(`${counter.data}/.dir`)).toBe(true);
  });

  it('records and reads where an app came from', async () => {
    expect(await client.origin('counter')).toBeNull();
    await client.setOrigin('counter', 'file');
    expect(fake.text(counter.origin)).toBe('file\n');
    expect(await client.origin('counter')).toBe('file');
    await client.setOrigin('counter', 'catalog');
    expect(await client.origin('counter')).toBe('catalog');
    fake.files.set(counter.origin, Buffer.from('somewhere else\n'));
    expect(await client.origin('counter')).toBeNull();
  });
});

describe('images', () => {
  const progress = () => {
    const seen: number[] = [];
    return { seen, options: { signal: never, onProgress: (sent: number) => seen.push(sent) } };
  };

  it('places a verified image, read-only, and no partial is left', async () => {
    const image = localImage('kernel bytes');
    const { seen, options } = progress();
    await client.prepareAppFolder('counter');
    expect(await client.placeImage('counter', image.sha256, image.path, options)).toEqual({
      placed: true,
      resumedFrom: 0,
    });
    expect(fake.text(counter.image(image.sha256))).toBe('kernel bytes');
    expect(fake.modes.get(counter.image(image.sha256))).toBe(0o444);
    expect(fake.files.has(counter.partialImage(image.sha256))).toBe(false);
    expect(seen.at(-1)).toBe('kernel bytes'.length);
    expect(await client.imagesIntact('counter', [image.sha256])).toBe(true);
  });

  it('sends nothing when the image is already there', async () => {
    const image = localImage('kernel bytes');
    fake.files.set(counter.image(image.sha256), Buffer.from('kernel bytes'));
    const { seen, options } = progress();
    expect(await client.placeImage('counter', image.sha256, image.path, options)).toEqual({
      placed: false,
      resumedFrom: 0,
    });
    expect(seen).toEqual([]);
    expect(fake.files.has(counter.partialImage(image.sha256))).toBe(false);
  });

  it('throws a damaged upload away: APP_DAMAGED_IN_TRANSIT, no partial and no image', async () => {
    const image = localImage('kernel bytes');
    fake.damageUploads = true;
    const error = await rejection(
      client.placeImage('counter', image.sha256, image.path, progress().options),
    );
    expect(error.code).toBe('APP_DAMAGED_IN_TRANSIT');
    expect(error.message).toContain('threw that copy away');
    expect(fake.files.has(counter.partialImage(image.sha256))).toBe(false);
    expect(fake.files.has(counter.image(image.sha256))).toBe(false);
    // A second try over a good link succeeds from scratch.
    fake.damageUploads = false;
    expect(
      await client.placeImage('counter', image.sha256, image.path, progress().options),
    ).toEqual({ placed: true, resumedFrom: 0 });
  });

  it('resumes an upload that was cut, from what the partial already holds', async () => {
    const image = localImage('kernel bytes, quite a few of them');
    fake.files.set(counter.partialImage(image.sha256), Buffer.from('kernel bytes'));
    expect(
      await client.placeImage('counter', image.sha256, image.path, progress().options),
    ).toEqual({ placed: true, resumedFrom: 12 });
    expect(fake.text(counter.image(image.sha256))).toBe('kernel bytes, quite a few of them');
  });

  it('refuses a hash that is not a sha256 before sending anything', async () => {
    const image = localImage('kernel bytes');
    await expect(
      client.placeImage('counter', 'nope; rm -rf /', image.path, progress().options),
    ).rejects.toThrow('not a sha256');
    expect(fake.operations).toEqual([]);
  });

  it('says an image is not intact when it is missing or its bytes changed', async () => {
    const a = localImage('kernel');
    const b = localImage('initrd');
    fake.files.set(counter.image(a.sha256), Buffer.from('kernel'));
    expect(await client.imagesIntact('counter', [a.sha256, b.sha256])).toBe(false);
    fake.files.set(counter.image(b.sha256), Buffer.from('initrd'));
    expect(await client.imagesIntact('counter', [a.sha256, b.sha256])).toBe(true);
    fake.files.set(counter.image(b.sha256), Buffer.from('initrd, bit-rotted'));
    expect(await client.imagesIntact('counter', [a.sha256, b.sha256])).toBe(false);
  });
});

describe('storage and settings', () => {
  it('creates missing volumes and keeps the ones there', async () => {
    const volumes = [{ name: 'storage', sizeMiB: 64 }];
    expect(await client.ensureVolumes('counter', volumes)).toBe(true);
    expect(fake.files.has(counter.volume('storage'))).toBe(true);
    fake.files.set(counter.volume('storage'), Buffer.from('the owner’s data'));
    expect(await client.ensureVolumes('counter', volumes)).toBe(false);
    expect(fake.text(counter.volume('storage'))).toBe('the owner’s data');
    expect(await client.ensureVolumes('counter', [...volumes, { name: 'cache', sizeMiB: 8 }])).toBe(
      true,
    );
    expect(fake.text(counter.volume('storage'))).toBe('the owner’s data');
    expect(fake.files.has(counter.volume('cache'))).toBe(true);
    expect(await client.ensureVolumes('counter', [])).toBe(false);
  });

  it('refuses a volume with a bad name or size', async () => {
    await expect(client.ensureVolumes('counter', [{ name: '../x', sizeMiB: 1 }])).rejects.toThrow(
      'not a volume',
    );
    await expect(client.ensureVolumes('counter', [{ name: 'x', sizeMiB: 0.5 }])).rejects.toThrow(
      'not a volume',
    );
    expect(fake.operations).toEqual([]);
  });

  it('tells whether KVM is usable, and hands back the earlier spec.json', async () => {
    expect(await client.installFacts('counter')).toEqual({ kvmUsable: true, specText: '' });
    fake.installed(spec);
    const facts = await client.installFacts('counter');
    expect(facts.kvmUsable).toBe(true);
    expect(JSON.parse(facts.specText)).toEqual(spec);
    await client.markKvmUnusable();
    expect(fake.files.has(deviceLayout.kvmUnusable)).toBe(true);
    expect((await client.installFacts('counter')).kvmUsable).toBe(false);
  });

  it('says KVM is not usable where the hearth account cannot open /dev/kvm', async () => {
    fake.kvmDevice = false;
    expect((await client.installFacts('counter')).kvmUsable).toBe(false);
  });

  it('writes app files beside their names and renames them in', async () => {
    await client.writeAppFiles('counter', [
      { name: 'run', content: '#!/bin/sh\nexec qemu\n', mode: '0755' },
      { name: 'spec.json', content: '{"appId":"counter"}\n', mode: '0644' },
      { name: 'data/.hearth-origin', content: 'file\n', mode: '0644' },
    ]);
    expect(fake.text(counter.run)).toBe('#!/bin/sh\nexec qemu\n');
    expect(fake.text(counter.spec)).toBe('{"appId":"counter"}\n');
    expect(fake.text(counter.origin)).toBe('file\n');
    expect([...fake.files.keys()].filter((p) => p.endsWith('.hearth-new'))).toEqual([]);
    // The temporary copy was created with its final mode before any byte was written.
    expect(fake.modes.get(`${counter.run}.hearth-new`)).toBe(0o755);
  });

  it.each(['../x', '/etc/passwd', 'data/../../x', 'images/../../../etc/shadow', 'a/b', '', '..'])(
    'refuses to write %j, outside the app folder',
    async (name) => {
      await expect(
        client.writeAppFiles('counter', [{ name, content: 'x', mode: '0644' }]),
      ).rejects.toThrow('not an app file');
      expect(fake.files.size).toBe(0);
      expect(fake.operations).toEqual([]);
    },
  );

  it('refuses a mode that is not octal', async () => {
    await expect(
      client.writeAppFiles('counter', [{ name: 'run', content: 'x', mode: '755; rm -rf /' }]),
    ).rejects.toThrow('not an app file');
    expect(fake.files.size).toBe(0);
  });

  it('points current at the image', async () => {
    const image = 'b'.repeat(64);
    await client.switchCurrent('counter', image);
    expect(fake.text(counter.current)).toBe(`-> images/${image}`);
    await expect(client.switchCurrent('counter', '../../bin/sh')).rejects.toThrow('not a sha256');
  });
});

describe('lifecycle', () => {
  it('starts, stops and restarts the unit', async () => {
    fake.installed(spec);
    await client.control('counter', 'stop');
    expect(fake.unit('counter')).toMatchObject({ activeState: 'inactive', startedAt: null });
    fake.now += 60_000;
    await client.control('counter', 'start');
    expect(fake.unit('counter')).toMatchObject({ activeState: 'active', startedAt: fake.now });
    fake.now += 60_000;
    await client.control('counter', 'restart');
    expect(fake.unit('counter')).toMatchObject({ activeState: 'active', startedAt: fake.now });
  });

  it('starts a unit systemd gave up on', async () => {
    fake.installed(spec);
    Object.assign(fake.unit('counter'), {
      activeState: 'failed',
      result: 'start-limit-hit',
      restarts: 5,
    });
    await client.control('counter', 'start');
    expect(fake.unit('counter')).toMatchObject({ activeState: 'active', restarts: 0 });
  });

  it('enables a unit for every boot and starts it now', async () => {
    fake.files.set(counter.spec, Buffer.from(JSON.stringify(spec)));
    expect(fake.unit('counter')).toMatchObject({ enabled: false, activeState: 'inactive' });
    await client.enableAndRestart('counter');
    expect(fake.unit('counter')).toMatchObject({ enabled: true, activeState: 'active' });
    expect(fake.text(counter.consoleLog)).toContain(BOOT_MARKER);
  });

  it('removes the app but keeps its data', async () => {
    fake.installed(spec);
    fake.files.set(counter.volume('storage'), Buffer.from('data'));
    fake.files.set(counter.origin, Buffer.from('catalog\n'));
    fake.files.set(counter.image('c'.repeat(64)), Buffer.from('kernel'));
    await client.removeApp('counter', false);
    expect(fake.unit('counter')).toMatchObject({ activeState: 'inactive', enabled: false });
    expect([...fake.files.keys()].filter((p) => p.startsWith(`${counter.dir}/`)).sort()).toEqual(
      [counter.origin, counter.volume('storage')].sort(),
    );
    expect(await client.appFolders()).toEqual(['counter']);
    expect(await client.appStatuses()).toEqual([]);
  });

  it('removes the app with its data', async () => {
    fake.installed(spec);
    fake.files.set(counter.volume('storage'), Buffer.from('data'));
    await client.removeApp('counter', true);
    expect([...fake.files.keys()].filter((p) => p.startsWith(`${counter.dir}/`))).toEqual([]);
    expect(await client.appFolders()).toEqual([]);
    expect(fake.unit('counter').enabled).toBe(false);
  });

  it('pauses and resumes a running app, and cannot pause a stopped one', async () => {
    fake.installed(spec);
    await client.pause('counter');
    expect(fake.unit('counter').paused).toBe(true);
    await client.resume('counter');
    expect(fake.unit('counter').paused).toBe(false);
    await client.control('counter', 'stop');
    const error = await rejection(client.pause('counter'));
    expect(error.code).toBe('DEVICE_STEP_FAILED');
    expect(error.message).toBe(
      'The device could not pause the app. Try again; Hearth picks up where it stopped.',
    );
  });
});

describe('copies and small state', () => {
  it('copies a data volume under a tag and returns where the copy is', async () => {
    fake.files.set(counter.volume('storage'), Buffer.from('the data'));
    const to = await client.copyVolume('counter', 'storage', 'backup-1');
    expect(to).toBe(`${counter.volume('storage')}.backup-1`);
    expect(fake.text(to)).toBe('the data');
    expect(fake.text(counter.volume('storage'))).toBe('the data');
    await expect(client.copyVolume('counter', 'storage', '../x')).rejects.toThrow(
      'not a volume or a tag',
    );
  });

  it('says the device could not copy a volume that is not there', async () => {
    const error = await rejection(client.copyVolume('counter', 'missing', 'backup-1'));
    expect(error.code).toBe('DEVICE_STEP_FAILED');
    expect(error.message).toContain('The device could not copy its data.');
  });

  it('writes and reads back a state file', async () => {
    expect(await client.readState('counter', 'update')).toBeNull();
    await client.writeState('counter', 'update', { phase: 'staged', version: '1.1.0' });
    expect(await client.readState('counter', 'update')).toEqual({
      phase: 'staged',
      version: '1.1.0',
    });
    expect(fake.files.has(`${counter.state('update')}.hearth-new`)).toBe(false);
  });

  it('reads a state file that is not JSON as no state', async () => {
    fake.files.set(counter.state('update'), Buffer.from('{"phase": "sta'));
    expect(await client.readState('counter', 'update')).toBeNull();
  });

  it('refuses a state name that is not a short name, and a state too large', async () => {
    await expect(client.readState('counter', '../../device')).rejects.toThrow('not a state name');
    await expect(client.writeState('counter', 'x/y', {})).rejects.toThrow('not a state name');
    await expect(client.writeState('counter', 'big', 'x'.repeat(70_000))).rejects.toThrow(
      'state too large',
    );
    expect(fake.operations).toEqual([]);
  });
});

describe('failures, in the owner’s words', () => {
  it('says the device is nearly full when it ran out of space', async () => {
    fake.failNext('ensure-volumes', 'truncate: cannot create: No space left on device');
    const error = await rejection(
      client.ensureVolumes('counter', [{ name: 'storage', sizeMiB: 64 }]),
    );
    expect(error.code).toBe('DISK_NEARLY_FULL');
    expect(error.message).toBe(
      'The device is nearly out of storage space. Free some space on it and try again.',
    );
  });

  it.each([
    ['prepare-app', () => client.prepareAppFolder('counter'), 'make room for the app'],
    [
      'ensure-volumes',
      () => client.ensureVolumes('counter', [{ name: 's', sizeMiB: 1 }]),
      'create its storage',
    ],
    ['install-facts', () => client.installFacts('counter'), 'read its settings'],
    [
      'switch-current',
      () => client.switchCurrent('counter', 'd'.repeat(64)),
      'switch to the new version',
    ],
    ['remove-app', () => client.removeApp('counter', false), 'remove the app'],
    ['control', () => client.control('counter', 'stop'), 'stop the app'],
    ['enable-restart', () => client.enableAndRestart('counter'), 'start the app'],
    ['kvm-unusable', () => client.markKvmUnusable(), 'note what it learned'],
  ] as const)('says what it could not do when %s fails', async (op, run, what) => {
    fake.failNext(op, 'mkdir: permission denied', 1);
    const error = await rejection(run());
    expect(error.code).toBe('DEVICE_STEP_FAILED');
    expect(error.message).toBe(
      `The device could not ${what}. Try again; Hearth picks up where it stopped.`,
    );
  });

  it('says a file could not be saved when its rename fails', async () => {
    fake.failNext('keep-file', 'mv: Read-only file system');
    const error = await rejection(
      client.writeAppFiles('counter', [{ name: 'run', content: 'x', mode: '0755' }]),
    );
    expect(error.message).toBe(
      'The device could not save its settings. Try again; Hearth picks up where it stopped.',
    );
    expect(fake.files.has(counter.run)).toBe(false);
  });

  it('says the device’s answer was garbled when listing folders fails', async () => {
    fake.failNext('app-folders', 'ls: I/O error', 2);
    expect((await rejection(client.appFolders())).code).toBe('DEVICE_GARBLED');
  });

  it('passes on a device that stopped answering', async () => {
    fake.offline = true;
    expect((await rejection(client.appStatuses())).code).toBe('DEVICE_UNREACHABLE');
  });
});

describe('the ground rules: ids, verbs and words', () => {
  it.each(['../x', '/etc', 'Counter', 'a b', '', '9lives', 'x'.repeat(33), 'a;reboot'])(
    'refuses the app id %j for paths and units',
    (id) => {
      expect(() => appPaths(id)).toThrow('not an app id');
      expect(() => appUnit(id)).toThrow('not an app id');
      expect(() => agentCommand('start', id)).toThrow('not an app id');
    },
  );

  it('names the paths and unit of a good id', () => {
    expect(appUnit('counter')).toBe('hearth-app@counter.service');
    expect(counter.dir).toBe('/var/lib/hearth/apps/counter');
    expect(counter.volume('storage')).toBe('/var/lib/hearth/apps/counter/data/storage.img');
  });

  it('builds agent commands from known verbs only', () => {
    expect(agentCommand('restart', 'counter')).toBe(
      `sudo -n ${deviceLayout.agent} restart counter`,
    );
    for (const verb of ['rm', 'start; reboot', 'START', ''])
      expect(() => agentCommand(verb as AgentVerb, 'counter')).toThrow('not an agent verb');
  });

  it('tags an operation with plain words only', () => {
    expect(operationCommand('console-since', ['counter', 1024], 'true')).toBe(
      "sh -c '# hearth:console-since counter 1024\ntrue'",
    );
    for (const word of ['a b', "it's", '$(reboot)', 'x\ny', '', 'a;b', '/etc/passwd'])
      expect(() => operationCommand('op', [word], 'true')).toThrow('not a plain word');
    expect(() => operationCommand('two words', [], 'true')).toThrow('not a plain word');
  });
});

describe('backups and restores', () => {
  const TAG = 'run-1';
  const copyOf = (volume: string) => counter.volumeCopy(volume, TAG);

  async function read(stream: { stdout: NodeJS.ReadableStream; done: Promise<void> }) {
    const chunks: Buffer[] = [];
    for await (const chunk of stream.stdout) chunks.push(Buffer.from(chunk));
    await stream.done;
    return Buffer.concat(chunks);
  }

  beforeEach(() => {
    fake.files.set(counter.volume('storage'), Buffer.from('the data'));
    fake.files.set(counter.volume('cache'), Buffer.from('cached'));
  });

  it('snapshots a running app: paused only while copying, then resumed', async () => {
    fake.installed(spec);
    const pausedDuringCopy: boolean[] = [];
    fake.onSnapshotPaused = (id) => pausedDuringCopy.push(fake.unit(id).paused);
    const result = await client.snapshotVolumes('counter', ['storage', 'cache'], TAG);
    expect(result).toEqual({
      copies: [
        {
          volume: 'storage',
          path: copyOf('storage'),
          sizeBytes: 8,
          identity: expect.objectContaining({ sizeBytes: 8 }) as unknown,
        },
        {
          volume: 'cache',
          path: copyOf('cache'),
          sizeBytes: 6,
          identity: expect.objectContaining({ sizeBytes: 6 }) as unknown,
        },
      ],
      pausedMs: 42,
      wasRunning: true,
    });
    expect(pausedDuringCopy).toEqual([true]);
    expect(fake.unit('counter').paused).toBe(false);
    expect(fake.operations).toEqual([
      `snapshot-volumes counter ${TAG} storage cache`,
      'pause counter',
      'resume counter',
    ]);
    expect(fake.text(copyOf('storage'))).toBe('the data');
  });

  it('takes a snapshot whose identity the device could not give as one without (never a failure)', async () => {
    const original = fake.exec.bind(fake);
    fake.exec = async (command, options) => {
      const result = await original(command, options);
      if (!command.includes('# hearth:snapshot-volumes')) return result;
      // A stat that knows no %.9Y prints the format back; a missing line says nothing.
      const stdout = result.stdout
        .split('\n')
        .filter((line) => !line.startsWith('identity cache'))
        .map((line) =>
          line.startsWith('identity storage') ? 'identity storage 8 ?9Y ?9Z 12' : line,
        )
        .join('\n');
      return { ...result, stdout };
    };
    const result = await client.snapshotVolumes('counter', ['storage', 'cache'], TAG);
    expect(result.copies.map((c) => [c.volume, c.sizeBytes, c.identity])).toEqual([
      ['storage', 8, null],
      ['cache', 6, null],
    ]);
  });

  it('reports the pause as soon as the app runs again, while the device is still copying', async () => {
    fake.installed(spec);
    const events: string[] = [];
    fake.whileCopying = async () => {
      events.push(`copying; app paused: ${fake.unit('counter').paused}`);
      await new Promise((r) => setTimeout(r, 20));
    };
    const result = await client.snapshotVolumes('counter', ['storage'], TAG, {
      onResumed: (report) => {
        events.push(`resumed after ${report.pausedMs} ms, ${report.copies[0]?.sizeBytes} bytes`);
      },
    });
    events.push('copied');
    expect(events).toEqual([
      'resumed after 42 ms, 8 bytes',
      'copying; app paused: false',
      'copied',
    ]);
    expect(result).toMatchObject({ pausedMs: 42, wasRunning: true });
    expect(result.copies).toMatchObject([
      { volume: 'storage', sizeBytes: 8, path: copyOf('storage') },
    ]);
  });

  /** The snapshot's result is the final report, and onResumed was never called. */
  async function expectNoEarlyReport() {
    const early: unknown[] = [];
    const result = await client.snapshotVolumes('counter', ['storage'], TAG, {
      onResumed: (r) => early.push(r),
    });
    expect(early).toEqual([]);
    expect(result.copies[0]?.sizeBytes).toBe(8);
  }

  it('takes the final report for the result, and a garbled early one for none', async () => {
    fake.earlySnapshotReports = false;
    const original = fake.exec.bind(fake);
    fake.exec = async (command, options) => {
      if (!command.includes('# hearth:snapshot-volumes')) return original(command, options);
      const garbled = 'copy storage x\nresumed\n';
      options?.onStdout?.(Buffer.from(garbled));
      const result = await original(command, options);
      return { ...result, stdout: `${garbled}${result.stdout}` };
    };
    await expectNoEarlyReport();
  });

  it('never reports early for a device that does not', async () => {
    fake.earlySnapshotReports = false;
    await expectNoEarlyReport();
  });

  it('snapshots a stopped app without pausing it', async () => {
    const result = await client.snapshotVolumes('counter', ['storage'], TAG);
    expect(result).toMatchObject({ wasRunning: false, pausedMs: 0 });
    expect(fake.operations).toEqual([`snapshot-volumes counter ${TAG} storage`]);
  });

  it('says BACKUP_DEVICE_DISK_FULL before pausing, and copies nothing', async () => {
    fake.installed(spec);
    fake.diskFull = true;
    const error = await rejection(client.snapshotVolumes('counter', ['storage'], TAG));
    expect(error.code).toBe('BACKUP_DEVICE_DISK_FULL');
    expect(fake.operations).not.toContain('pause counter');
    expect(fake.files.has(copyOf('storage'))).toBe(false);
    expect(fake.unit('counter').paused).toBe(false);
  });

  it('says BACKUP_BUSY while another copy runs, and what it could not do otherwise', async () => {
    fake.failNext('snapshot-volumes', 'hearth: a copy of this app is being made', 75);
    expect((await rejection(client.snapshotVolumes('counter', ['storage'], TAG))).code).toBe(
      'BACKUP_BUSY',
    );
    fake.failNext('remove-stale', 'hearth: a copy of this app is being made', 75);
    expect((await rejection(client.removeStaleCopies('counter'))).code).toBe('BACKUP_BUSY');
    fake.failNext('snapshot-volumes', 'hearth: no volume storage', 3);
    const error = await rejection(client.snapshotVolumes('counter', ['storage'], TAG));
    expect(error.message).toBe(
      'The device could not copy its data. Try again; Hearth picks up where it stopped.',
    );
    expect((await rejection(client.snapshotVolumes('counter', ['missing'], TAG))).code).toBe(
      'DEVICE_STEP_FAILED',
    );
  });

  it.each([
    ['../x', ['storage'], TAG],
    ['counter', ['../storage'], TAG],
    ['counter', ['storage'], '../run'],
    ['counter', ['storage'], 'restore-1'],
    ['counter', ['storage'], 'replaced-1'],
    ['counter', ['storage', 'storage'], TAG],
    ['counter', [], TAG],
    ['counter', Array.from({ length: 17 }, (_, i) => `v${i}`), TAG],
    ['counter', ['storage;reboot'], TAG],
  ])('refuses to snapshot %j %j %j', async (appId, volumes, tag) => {
    await expect(client.snapshotVolumes(appId, volumes, tag)).rejects.toThrow();
    expect(fake.operations).toEqual([]);
  });

  it('refuses a watchdog time that is not a whole number of seconds', async () => {
    for (const watchdogSeconds of [0, 1.5, -1, 7200])
      await expect(
        client.snapshotVolumes('counter', ['storage'], TAG, { watchdogSeconds }),
      ).rejects.toThrow('not a watchdog time');
    expect(fake.operations).toEqual([]);
  });

  it('removes one run’s copies, then everything stale, never a live volume', async () => {
    await client.snapshotVolumes('counter', ['storage', 'cache'], TAG);
    await client.snapshotVolumes('counter', ['storage'], 'run-0');
    fake.files.set(`${copyOf('cache')}.partial`, Buffer.from('half'));
    fake.files.set(`${counter.restoredVolume('storage', 'run-0')}.partial`, Buffer.from('half'));
    fake.files.set(counter.replacedVolume('storage', 'run-0'), Buffer.from('old'));
    await client.removeVolumeCopies('counter', TAG);
    const left = () =>
      [...fake.files.keys()].filter((path) => path.startsWith(`${counter.data}/`)).sort();
    expect(left()).toEqual(
      [
        counter.volume('cache'),
        counter.volume('storage'),
        counter.volumeCopy('storage', 'run-0'),
        `${counter.restoredVolume('storage', 'run-0')}.partial`,
        counter.replacedVolume('storage', 'run-0'),
      ].sort(),
    );
    await client.removeStaleCopies('counter');
    expect(left()).toEqual(
      [
        counter.volume('cache'),
        counter.volume('storage'),
        counter.replacedVolume('storage', 'run-0'),
      ].sort(),
    );
    await client.removeStaleCopies('counter', { includeReplaced: true });
    expect(left()).toEqual([counter.volume('cache'), counter.volume('storage')].sort());
    await expect(client.removeVolumeCopies('counter', '*')).rejects.toThrow('not a tag');
  });

  it('streams a copy it made and the current image, and says the image’s size first', async () => {
    const [copy] = (await client.snapshotVolumes('counter', ['storage'], TAG)).copies;
    expect((await read(client.readFileStream('counter', { copy: copy!.path }))).toString()).toBe(
      'the data',
    );
    expect(await client.imageSize('counter')).toBeNull();
    const kernel = Buffer.from('kernel bytes');
    fake.files.set(counter.image(sha(kernel)), kernel);
    await client.switchCurrent('counter', sha(kernel));
    expect(await client.imageSize('counter')).toEqual({ sha256: sha(kernel), sizeBytes: 12 });
    expect(await read(client.readFileStream('counter', { image: 'current' }))).toEqual(kernel);
  });

  it('says the device could not send a copy that is not there', async () => {
    const error = await rejection(read(client.readFileStream('counter', { copy: copyOf('gone') })));
    expect(error.message).toBe(
      'The device could not send its data. Try again; Hearth picks up where it stopped.',
    );
  });

  it.each([
    counter.volume('storage'),
    `${counter.data}/../spec.json`,
    `${counter.data}/storage.img.${TAG}/../../../x`,
    appPaths('web').volumeCopy('storage', TAG),
    counter.restoredVolume('storage', TAG),
    counter.replacedVolume('storage', TAG),
    `${copyOf('storage')}.partial`,
    `${copyOf('storage')}\n`,
    'storage.img.run-1',
    '/etc/shadow',
  ])('refuses to stream %j', (copy) => {
    expect(() => client.readFileStream('counter', { copy })).toThrow('not a volume copy');
    expect(() => client.readFileStream('counter', { image: 'previous' })).toThrow(
      'not a file to stream',
    );
    expect(fake.operations).toEqual([]);
  });

  it('receives a volume, hashes it on the device and keeps it under its restore name', async () => {
    const data = Buffer.alloc(300_000, 5);
    const seen: number[] = [];
    const result = await client.receiveVolume('counter', 'storage', TAG, Readable.from([data]), {
      onProgress: (bytes) => seen.push(bytes),
    });
    expect(result).toEqual({ path: counter.restoredVolume('storage', TAG), sha256: sha(data) });
    expect(fake.files.get(result.path)).toEqual(data);
    expect(fake.files.has(`${result.path}.partial`)).toBe(false);
    expect(seen.at(-1)).toBe(300_000);
    expect(fake.text(counter.volume('storage'))).toBe('the data');
  });

  it('says BACKUP_DEVICE_DISK_FULL on a full disk, with no partial left', async () => {
    fake.diskFull = true;
    const partial = `${counter.restoredVolume('storage', TAG)}.partial`;
    const error = await rejection(
      client.receiveVolume('counter', 'storage', TAG, Readable.from([Buffer.from('x')])),
    );
    expect(error.code).toBe('BACKUP_DEVICE_DISK_FULL');
    expect(fake.files.has(partial)).toBe(false);
    const told = await rejection(
      client.receiveVolume('counter', 'storage', TAG, Readable.from([Buffer.from('x')]), {
        sizeBytes: 1,
      }),
    );
    expect(told.code).toBe('BACKUP_DEVICE_DISK_FULL');
    expect(fake.files.has(partial)).toBe(false);
  });

  it('leaves a cancelled receive’s partial for removeStaleCopies', async () => {
    const controller = new AbortController();
    const input = new Readable({ read() {} });
    input.push(Buffer.from('half of it'));
    const pending = client.receiveVolume('counter', 'storage', TAG, input, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    expect((await rejection(pending)).code).toBe('CANCELLED');
    const partial = `${counter.restoredVolume('storage', TAG)}.partial`;
    expect(fake.text(partial)).toBe('half of it');
    await client.removeStaleCopies('counter');
    expect(fake.files.has(partial)).toBe(false);
  });

  it('refuses to receive under a bad volume or tag', async () => {
    const input = () => Readable.from([Buffer.from('x')]);
    await expect(client.receiveVolume('counter', '../x', TAG, input())).rejects.toThrow(
      'not a volume',
    );
    await expect(client.receiveVolume('counter', 'storage', 'a b', input())).rejects.toThrow(
      'not a tag',
    );
    await expect(
      client.receiveVolume('counter', 'storage', TAG, input(), { sizeBytes: -1 }),
    ).rejects.toThrow('not a size');
    expect(fake.operations).toEqual([]);
  });

  it('swaps a restored volume in, keeping the live one, and puts it back or drops it', async () => {
    await client.receiveVolume('counter', 'storage', TAG, Readable.from([Buffer.from('restored')]));
    await client.swapInVolume('counter', 'storage', TAG);
    expect(fake.text(counter.volume('storage'))).toBe('restored');
    expect(fake.text(counter.replacedVolume('storage', TAG))).toBe('the data');
    await client.putBackVolume('counter', 'storage', TAG);
    expect(fake.text(counter.volume('storage'))).toBe('the data');
    expect(fake.files.has(counter.replacedVolume('storage', TAG))).toBe(false);
    await client.receiveVolume('counter', 'storage', TAG, Readable.from([Buffer.from('again')]));
    await client.swapInVolume('counter', 'storage', TAG);
    await client.dropReplaced('counter', 'storage', TAG);
    expect(fake.text(counter.volume('storage'))).toBe('again');
    expect(fake.files.has(counter.replacedVolume('storage', TAG))).toBe(false);
  });

  it('swaps in on a new device (no live volume), and putting back removes it again', async () => {
    await client.receiveVolume('counter', 'notes', TAG, Readable.from([Buffer.from('restored')]));
    await client.swapInVolume('counter', 'notes', TAG);
    expect(fake.text(counter.volume('notes'))).toBe('restored');
    await client.putBackVolume('counter', 'notes', TAG);
    expect(fake.files.has(counter.volume('notes'))).toBe(false);
    const error = await rejection(client.putBackVolume('counter', 'notes', TAG));
    expect(error.message).toBe(
      'The device could not put its own data back. Try again; Hearth picks up where it stopped.',
    );
    expect((await rejection(client.swapInVolume('counter', 'notes', TAG))).message).toBe(
      'The device could not put the restored data in place. Try again; Hearth picks up where it stopped.',
    );
  });

  it('refuses to swap with a bad volume or tag', async () => {
    await expect(client.swapInVolume('counter', '../storage', TAG)).rejects.toThrow('not a volume');
    await expect(client.putBackVolume('counter', 'storage', 'x/y')).rejects.toThrow('not a tag');
    await expect(client.dropReplaced('../x', 'storage', TAG)).rejects.toThrow('not an app id');
    expect(fake.operations).toEqual([]);
  });

  it('reads spec.json as text, or null when there is none', async () => {
    expect(await client.readSpecText('counter')).toBeNull();
    fake.installed(spec);
    expect(JSON.parse((await client.readSpecText('counter')) ?? '')).toEqual(spec);
  });
});
