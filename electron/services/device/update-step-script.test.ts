// The device's update script, run for real (sh, coreutils) on an app folder in a temp dir: each
// step, and a crash after every step followed by the recovery a reboot runs, must leave the app
// whole in one version or the other, its data matching that version, and no state file.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killWatcher } from '../updates/local-update-device';
import { parseUpdateStatus } from './update-steps';
import { updateStepScript } from './update-step-script';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
let root: string;
let app: string;
let script: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'hearth-update-'));
  app = join(root, 'apps', 'counter');
  mkdirSync(join(app, 'images'), { recursive: true });
  mkdirSync(join(app, 'data'));
  writeFileSync(join(app, 'images', A), 'kernel v1');
  writeFileSync(join(app, 'images', B), 'kernel v2');
  symlinkSync(`images/${A}`, join(app, 'current'));
  writeFileSync(join(app, 'spec.json'), '{"appId":"counter","name":"Counter","version":"1.0.0"}\n');
  writeFileSync(join(app, 'run'), '#!/bin/sh\necho v1\n', { mode: 0o755 });
  writeFileSync(join(app, 'console.log'), 'READY\n');
  writeFileSync(join(app, 'data', 'data.img'), 'counter=5');
  script = join(root, 'update-step');
  writeFileSync(
    script,
    updateStepScript({
      appsDir: join(root, 'apps'),
      activeCommand: '[ -e .running ]',
      startCommand: 'touch .running',
      watchSeconds: 1,
    }),
    { mode: 0o755 },
  );
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync('sh', [script, ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}
function ok(...args: string[]): string {
  const r = run(...args);
  expect(r.err, `${args.join(' ')}: ${r.err}`).toBe('');
  expect(r.code).toBe(0);
  return r.out;
}
const read = (p: string) => readFileSync(join(app, p), 'utf8');
const current = () => readlinkSync(join(app, 'current'));
const hashOf = (p: string) =>
  createHash('sha256')
    .update(readFileSync(join(app, p)))
    .digest('hex');

/** What the new version does: its files written by the laptop, then data it writes once running. */
function writeNewFiles() {
  writeFileSync(join(app, 'spec.json'), '{"appId":"counter","name":"Counter","version":"2.0.0"}\n');
  writeFileSync(join(app, 'run'), '#!/bin/sh\necho v2\n', { mode: 0o755 });
}
function newVersionRuns() {
  writeFileSync(join(app, 'data', 'data.img'), 'counter=6 written by v2');
}

/** The app is whole in exactly one version: image, files and data agree. */
function expectWhole(): 'v1' | 'v2' {
  expect(existsSync(join(app, 'state', 'update'))).toBe(false);
  const spec = JSON.parse(read('spec.json')) as { version: string };
  if (current() === `images/${A}`) {
    expect(spec.version).toBe('1.0.0');
    expect(read('run')).toContain('v1');
    expect(read('data/data.img')).toBe('counter=5');
    return 'v1';
  }
  expect(current()).toBe(`images/${B}`);
  expect(spec.version).toBe('2.0.0');
  expect(read('run')).toContain('v2');
  return 'v2';
}

describe('the update script', () => {
  it('updates in steps and keeps the previous version, files and data, for going back', () => {
    expect(ok('begin', 'counter', 'u1', B)).toBe(`from ${A}`);
    ok('snapshot', 'counter');
    writeNewFiles();
    ok('switch', 'counter');
    expect(current()).toBe(`images/${B}`);
    expect(readlinkSync(join(app, 'previous'))).toBe(`images/${A}`);
    newVersionRuns();
    expect(ok('commit', 'counter')).toBe('committed');
    expect(expectWhole()).toBe('v2');
    expect(read('data/data.img')).toBe('counter=6 written by v2');
    const status = parseUpdateStatus(ok('status', 'counter'));
    expect(status.transaction).toBeNull();
    expect(status.previous).toEqual({ version: '1.0.0', hasData: true });
    // The console log is the app's, not part of a version.
    expect(existsSync(join(app, 'state', 'previous', 'files', 'console.log'))).toBe(false);
  });

  it('rolls back image, files and data, and keeps what the new version wrote aside', () => {
    ok('begin', 'counter', 'u1', B);
    ok('snapshot', 'counter');
    writeNewFiles();
    ok('switch', 'counter');
    newVersionRuns();
    expect(ok('rollback', 'counter')).toBe('rolled-back');
    expect(expectWhole()).toBe('v1');
    expect(readFileSync(join(app, 'data', '.kept-u1', 'data.img'), 'utf8')).toBe(
      'counter=6 written by v2',
    );
    expect(existsSync(join(app, 'state', 'update-work'))).toBe(false);
  });

  const steps: [string, () => void][] = [
    ['begin', () => ok('begin', 'counter', 'u1', B)],
    ['snapshot', () => ok('snapshot', 'counter')],
    ['the new files', writeNewFiles],
    ['switch', () => ok('switch', 'counter')],
    ['the new version ran', newVersionRuns],
  ];
  for (let n = 1; n <= steps.length; n++) {
    const done = steps.slice(0, n);
    it(`after a crash following "${done.at(-1)![0]}", the next boot ends with the old version whole`, () => {
      for (const [, s] of done) s();
      // A start of the unit in the same boot leaves a live transaction to the laptop.
      expect(ok('recover', 'counter')).toBe('live');
      expect(existsSync(join(app, 'state', 'update'))).toBe(true);
      killWatcher(app, script); // the power cut
      expect(ok('recover', 'counter')).toMatch(/^(discarded|rolled-back)$/);
      expect(expectWhole()).toBe('v1');
      const last = parseUpdateStatus(ok('status', 'counter')).last;
      expect(last).toMatchObject({ by: 'device', id: 'u1' });
      ok('told', 'counter');
      expect(parseUpdateStatus(ok('status', 'counter')).last).toBeNull();
    });
  }

  it('a crash during the commit is finished at the next boot, as a commit', () => {
    for (const [, s] of steps) s();
    // The commit got as far as its phase: the copies not moved yet.
    const state = read('state/update').replace('phase switched', 'phase committing');
    writeFileSync(join(app, 'state', 'update'), state);
    killWatcher(app, script);
    expect(ok('recover', 'counter')).toBe('committed');
    expect(expectWhole()).toBe('v2');
    expect(parseUpdateStatus(ok('status', 'counter')).previous?.version).toBe('1.0.0');
  });

  it('a rollback cut between moving a volume aside and putting the copy back is finished', () => {
    for (const [, s] of steps) s();
    ok('rollback', 'counter');
    expectWhole();
    // Replay the cut by hand: a transaction in rolling-back whose live volume is already aside.
    for (const [, s] of steps) s();
    const state = read('state/update').replace('phase switched', 'phase rolling-back');
    writeFileSync(join(app, 'state', 'update'), state);
    mkdirSync(join(app, 'data', '.kept-u1b'), { recursive: true });
    execFileSync('mv', [join(app, 'data', 'data.img'), join(app, 'data', '.kept-u1b', 'data.img')]);
    killWatcher(app, script);
    expect(ok('recover', 'counter')).toBe('rolled-back');
    expect(expectWhole()).toBe('v1');
  });

  it('refuses a second transaction, a running app, a missing image and bad words', () => {
    ok('begin', 'counter', 'u1', B);
    expect(run('begin', 'counter', 'u2', B).code).toBe(75);
    writeFileSync(join(app, '.running'), '');
    const running = run('snapshot', 'counter');
    expect(running.code).toBe(3);
    expect(running.err).toMatch(/still running/);
    rmSync(join(app, '.running'));
    ok('rollback', 'counter');
    expect(run('begin', 'counter', 'u3', 'c'.repeat(64)).err).toMatch(/not on the device/);
    expect(run('begin', 'counter', 'u3', A).err).toMatch(/the one installed/);
    expect(run('begin', '../etc', 'u3', B).code).toBe(2);
    expect(run('begin', 'counter', 'U;rm', B).code).toBe(2);
    expect(run('frobnicate', 'counter').code).toBe(2);
    expectWhole();
  });

  it('goes back to the previous version with its old data, or with the data as it is now', () => {
    for (const [, s] of steps) s();
    ok('commit', 'counter');
    ok('goback', 'counter', 'before', 'g1');
    expect(expectWhole()).toBe('v1');
    expect(readFileSync(join(app, 'data', '.kept-g1', 'data.img'), 'utf8')).toBe(
      'counter=6 written by v2',
    );
    expect(parseUpdateStatus(ok('status', 'counter')).previous).toBeNull();
    expect(run('goback', 'counter', 'now', 'g2').err).toMatch(/no previous version/);

    for (const [, s] of steps) s();
    ok('commit', 'counter');
    ok('goback', 'counter', 'now', 'g3');
    expect(current()).toBe(`images/${A}`);
    expect(read('spec.json')).toContain('1.0.0');
    expect(read('data/data.img')).toBe('counter=6 written by v2');
  });

  it('settles by itself when the laptop goes away mid-update, and starts the old version', async () => {
    script = `${script}-quick`;
    writeFileSync(
      script,
      updateStepScript({
        appsDir: join(root, 'apps'),
        activeCommand: '[ -e .running ]',
        startCommand: 'touch .running',
        deadlineSeconds: 2,
        watchSeconds: 1,
      }),
      { mode: 0o755 },
    );
    ok('begin', 'counter', 'u1', B);
    ok('snapshot', 'counter');
    writeNewFiles();
    ok('switch', 'counter');
    newVersionRuns();
    // Nobody comes back: within a few seconds past the deadline the device has settled it.
    await expect
      .poll(() => existsSync(join(app, 'state', 'update')), { timeout: 15_000, interval: 250 })
      .toBe(false);
    // Started again right after it settled.
    await expect.poll(() => existsSync(join(app, '.running')), { timeout: 5_000 }).toBe(true);
    expect(expectWhole()).toBe('v1');
    expect(parseUpdateStatus(ok('status', 'counter')).last).toMatchObject({
      outcome: 'rolled-back',
      by: 'device',
    });
  });

  it('keeps the image hash the same through it all (images are never rewritten)', () => {
    const before = hashOf(`images/${A}`);
    for (const [, s] of steps) s();
    ok('rollback', 'counter');
    expect(hashOf(`images/${A}`)).toBe(before);
  });
});
