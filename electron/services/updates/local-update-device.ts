// Test helper (not used by the shipped app): an UpdateDevice whose update steps are the real
// device script (update-step-script.ts) run with sh on an app folder in a temp dir, and whose
// unit is a file saying it runs. How each image behaves when started is the test's to say, and
// any method can be made to fail once, to prove every step failing leaves the app whole.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { HearthError } from '../../../shared/errors';
import type { RawAppStatus } from '../device/app-status-report';
import { parseUpdateStatus } from '../device/update-steps';
import { updateStepScript } from '../device/update-step-script';
import { BUSY_STATUS, DISK_FULL_STATUS } from '../device/volume-scripts';
import type { AppSpec } from '../apps/app-spec';
import { parseAppSpec } from '../apps/app-spec';
import type { Settled, UpdateDevice } from './update-device';

/** Ends every watcher the script at `script` started, as a power cut would, and waits for its lock. */
export function killWatcher(appDir: string, script: string): void {
  spawnSync('pkill', ['-KILL', '-f', `${script} watch`]);
  const live = join(appDir, 'state', 'update.live');
  for (let i = 0; i < 500; i++) {
    if (!existsSync(live) || spawnSync('flock', ['-n', live, 'true']).status === 0) return;
    spawnSync('sleep', ['0.01']);
  }
  throw new Error('a watcher kept the update lock');
}

export type Behaviour = 'good' | 'not-ready' | 'crash';

export class LocalUpdateDevice implements UpdateDevice {
  readonly dir: string;
  readonly app: string;
  readonly script: string;
  /** How the image with this sha256 behaves once started. */
  readonly behaviour = new Map<string, Behaviour>();
  /** Methods that fail at their next call (with a cut connection's error). */
  readonly failNext = new Set<keyof UpdateDevice>();
  /** Data each image writes to its volume when it starts (what "the new version wrote"). */
  readonly writes = new Map<string, string>();
  restarts = 0;
  /** The sleep file the app's sleep units were last written from (the agent's sleep-on), or null. */
  sleepUnits: string | null = null;
  #polls = 0;

  constructor(dir: string, appId = 'counter') {
    this.dir = dir;
    this.app = join(dir, 'apps', appId);
    this.script = join(dir, 'update-step');
    mkdirSync(join(this.app, 'images'), { recursive: true });
    mkdirSync(join(this.app, 'data'), { recursive: true });
    writeFileSync(
      this.script,
      updateStepScript({
        appsDir: join(dir, 'apps'),
        activeCommand: '[ -e .running ]',
        startCommand: 'touch .running',
        watchSeconds: 1,
      }),
      { mode: 0o755 },
    );
  }

  /** An app as an install leaves it: image, current, spec.json, a volume, running. */
  install(spec: AppSpec, image: string, data: string): void {
    writeFileSync(join(this.app, 'images', spec.sha256), image);
    rmSync(join(this.app, 'current'), { force: true });
    symlinkSync(`images/${spec.sha256}`, join(this.app, 'current'));
    writeFileSync(join(this.app, 'spec.json'), `${JSON.stringify(spec)}\n`);
    writeFileSync(join(this.app, 'run'), `#!/bin/sh\n# ${spec.version}\n`);
    for (const v of spec.volumes) writeFileSync(join(this.app, 'data', `${v.name}.img`), data);
    writeFileSync(join(this.app, '.running'), '');
  }

  #fail(what: keyof UpdateDevice): void {
    if (this.failNext.delete(what)) throw new HearthError('DEVICE_UNREACHABLE');
  }

  #step(...args: string[]): string {
    const r = spawnSync('sh', [this.script, ...args], {
      encoding: 'utf8',
    });
    if (r.status === BUSY_STATUS) throw new HearthError('BACKUP_BUSY');
    if (r.status === DISK_FULL_STATUS) throw new HearthError('UPDATE_DISK_FULL');
    if (r.status !== 0) throw new HearthError('DEVICE_STEP_FAILED', r.stderr.trim());
    return r.stdout.trim();
  }

  currentSha(): string {
    return readlinkSync(join(this.app, 'current')).replace(/^images\//, '');
  }
  running(): boolean {
    return existsSync(join(this.app, '.running'));
  }
  read(path: string): string {
    return readFileSync(join(this.app, path), 'utf8');
  }
  hasState(): boolean {
    return existsSync(join(this.app, 'state', 'update'));
  }

  async origin() {
    this.#fail('origin');
    return 'catalog' as const;
  }
  async spec() {
    this.#fail('spec');
    return parseAppSpec(this.read('spec.json'));
  }
  async placeImage(_appId: string, sha256: string, localPath: string) {
    this.#fail('placeImage');
    copyFileSync(localPath, join(this.app, 'images', sha256));
  }
  async imagesIntact(_appId: string, hashes: string[]) {
    this.#fail('imagesIntact');
    return hashes.every(
      (h) =>
        createHash('sha256')
          .update(readFileSync(join(this.app, 'images', h)))
          .digest('hex') === h,
    );
  }
  async begin(appId: string, id: string, toSha: string) {
    this.#fail('begin');
    const out = this.#step('begin', appId, id, toSha);
    return { fromSha: out.replace(/^from /, '') };
  }
  async stop() {
    this.#fail('stop');
    rmSync(join(this.app, '.running'), { force: true });
  }
  async snapshot(appId: string) {
    this.#fail('snapshot');
    this.#step('snapshot', appId);
  }
  async writeFiles(_appId: string, files: readonly { name: string; content: string }[]) {
    this.#fail('writeFiles');
    for (const f of files) writeFileSync(join(this.app, f.name), f.content);
  }
  async switchTo(appId: string) {
    this.#fail('switchTo');
    this.#step('switch', appId);
  }
  async sleep(_appId: string, on: boolean) {
    this.#fail('sleep');
    // On: the units are written from the sleep file and the app is stopped; off: it starts.
    this.sleepUnits = on ? this.read('sleep') : null;
    if (on) rmSync(join(this.app, '.running'), { force: true });
    else writeFileSync(join(this.app, '.running'), '');
  }
  async start() {
    this.#fail('start');
    writeFileSync(join(this.app, '.running'), '');
    this.#polls = 0;
    const wrote = this.writes.get(this.currentSha());
    if (wrote !== undefined) {
      const spec = parseAppSpec(this.read('spec.json'));
      for (const v of spec?.volumes ?? [])
        writeFileSync(join(this.app, 'data', `${v.name}.img`), wrote);
    }
  }
  async healthy() {
    this.#fail('healthy');
    return (this.behaviour.get(this.currentSha()) ?? 'good') !== 'not-ready';
  }
  async unitStatus(appId: string): Promise<RawAppStatus> {
    this.#fail('unitStatus');
    this.#polls++;
    const crashing = this.behaviour.get(this.currentSha()) === 'crash' && this.#polls > 2;
    if (crashing) this.restarts++;
    return {
      appId,
      activeState: crashing ? 'activating' : this.running() ? 'active' : 'inactive',
      subState: crashing ? 'auto-restart' : 'running',
      result: 'success',
      restarts: this.restarts,
      startedAt: null,
      memoryBytes: null,
      enabled: true,
      healthy: true,
      specText: this.read('spec.json'),
      guestAddress: null,
      sleeping: this.sleepUnits !== null && !this.running(),
    };
  }
  async commit(appId: string) {
    this.#fail('commit');
    this.#step('commit', appId);
  }
  async rollBack(appId: string) {
    this.#fail('rollBack');
    return this.#step('rollback', appId) as Settled;
  }
  async recover(appId: string) {
    this.#fail('recover');
    return this.#step('recover', appId, 'now') as Settled;
  }
  /** A power cut (the device-side watcher dies with it), then the app's recovery unit at boot. */
  bootRecover(appId = 'counter'): string {
    killWatcher(this.app, this.script);
    return this.#step('recover', appId);
  }
  async goBack(appId: string, data: 'now' | 'before', id: string) {
    this.#fail('goBack');
    this.#step('goback', appId, data, id);
  }
  async status(appId: string) {
    this.#fail('status');
    return parseUpdateStatus(this.#step('status', appId));
  }
  async told(appId: string) {
    this.#fail('told');
    this.#step('told', appId);
  }
}
