// The snapshot script run for real (sh, cp, stat, flock) on a scratch app folder of an app that
// is not running, as a sleeping app is: nothing to pause, and a copy taken only if nothing wrote
// the volume while it was copied (a visit may wake the app in the middle).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { snapshotScript } from './volume-scripts';

let dir = '';
let data = '';
let bin = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-snapshot-'));
  data = join(dir, 'data');
  bin = join(dir, 'bin');
  mkdirSync(data);
  mkdirSync(bin);
  writeFileSync(join(data, 'storage.img'), 'the data as it sleeps');
  writeFileSync(join(dir, 'spec.json'), '{"appId":"visits","target":"qemu-x86_64"}\n');
  // No systemd here: the app's unit is not running (it sleeps).
  writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function snapshot(extraPath = '', watchdogSeconds = 30) {
  const script = snapshotScript({
    dataDir: data,
    lockPath: join(dir, 'copy.lock'),
    spec: join(dir, 'spec.json'),
    qmp: join(dir, 'qmp'),
    appId: 'visits',
    unit: 'hearth-app@visits.service',
    tag: 't1',
    watchdogSeconds,
    volumes: ['storage'],
  });
  return spawnSync('sh', ['-c', script], {
    encoding: 'utf8',
    env: { PATH: `${extraPath}${bin}:/usr/bin:/bin` },
  });
}

describe('a snapshot of an app that is not running', () => {
  it('copies its volume without pausing anything', () => {
    const r = snapshot();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('copy storage 21\n');
    expect(r.stdout).toContain('was-running no\n');
    expect(readdirSync(data).sort()).toEqual(['storage.img', 'storage.img.t1']);
  });

  it('refuses the copy when the app woke and wrote its volume meanwhile', () => {
    // cp, then a write to the volume, as a visitor's wake would make during the copy.
    const waking = join(dir, 'waking');
    mkdirSync(waking);
    writeFileSync(
      join(waking, 'cp'),
      `#!/bin/sh\n/bin/cp "$@" && sleep 0.02 && echo visit >> ${join(data, 'storage.img')}\n`,
      { mode: 0o755 },
    );
    const r = snapshot(`${waking}:`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('hearth: the app started and wrote storage while it was copied');
    expect(readdirSync(data)).toEqual(['storage.img']);
  });
});

describe('a snapshot of a running app', () => {
  it('resumes it once, and its watchdog does not resume it again later', async () => {
    // A running QEMU app: its qmp helper records what it is asked.
    const calls = join(dir, 'calls');
    writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    writeFileSync(
      join(dir, 'qmp'),
      `#!/bin/sh\necho "$1" >> ${calls}\n[ "$1" = query-status ] && echo '{"return": {"running": true}}'\nexit 0\n`,
      { mode: 0o755 },
    );
    const r = snapshot('', 2);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('was-running yes\n');
    // Past the watchdog's time: a watchdog left running would have sent a second cont.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const asked = readFileSync(calls, 'utf8').trim().split('\n');
    expect(asked.filter((c) => c === 'stop')).toHaveLength(1);
    expect(asked.filter((c) => c === 'cont')).toHaveLength(1);
  });
});
