// Run on the lab's laptop side by bench/run.ts. With Hearth's real services (laptop-hearth.ts)
// it prepares a factory-fresh device, installs Counter from the signed test catalog, stops it,
// replaces its data volume with `--mib` MiB of random data (root on the device, owned and
// moded as the volume it replaces, same name), starts it again and waits for a new READY on
// its console (the test kernel reads only its first sectors, so a bigger disk boots the same).
// Then, for each `--shapes` rate (the device's link shaped with lab.shape, unshaped after),
// each round:
//  - the baseline: OpenSSH's `ssh` as the hearth account with Hearth's key, `cat VOLUME` on
//    the device into /dev/null here: the least anyone can do to get those bytes over that link;
//  - the ceiling: the same `ssh cat` handed straight to restic's stdin (no Node, no copy, no
//    tar): the most a laptop-side restic can make of that link on this machine;
//  - Hearth: takeBackup (the run "Back up now" does: copy on the device while the app is
//    paused, the copy and the image streamed as one tar into restic) into a fresh restic
//    repository in a folder here, so the backup is a full one; its pausedMs as measured on the
//    device;
//  - Counter is stopped: while it runs it writes a heartbeat into its volume every second, so
//    its volume is never unchanged from one backup to the next;
//  - a takeBackup given the full one's last point, as "Back up now" is (from the app's backup
//    state): the heartbeats written since make it a full run; its time and the bytes restic
//    added show what a full run of data that barely changed costs;
//  - a second takeBackup of the now unchanged volume, given that run's last point: its time
//    and the bytes restic added (none when it finds the data unchanged and makes no snapshot);
//  - Counter is started again, for the next round's pause.
// Prints one JSON line.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as lab from '../e2e/lab/lab';
import { fingerprintOfPublicKeyLine } from '../e2e/lab/host-keys';
import { takeBackup } from '../electron/services/backups/backup-run';
import type { LastPoint } from '../electron/services/backups/backup-state';
import { Restic } from '../electron/services/backups/restic';
import { findRestic } from '../electron/services/backups/restic-binary';
import { systemClock } from '../electron/services/clock';
import { DeviceClient } from '../electron/services/device/device-client';
import { HEARTH_USER, appPaths } from '../electron/services/device/layout';
import { shellQuote } from '../electron/services/device/shell-quote';
import { silentLogger } from '../electron/services/logger';
import { consoleLogPath } from '../electron/services/runtimes/qemu-launcher';
import { deviceOptions, laptopHearth, sayVerbose } from './laptop-hearth';

const { values } = parseArgs({
  options: {
    ...deviceOptions,
    /** The device's name in the lab, for lab.exec and lab.shape. */
    'lab-device': { type: 'string', default: 'pi' },
    mib: { type: 'string', default: '1024' },
    shapes: { type: 'string', default: '1gbit,300mbit' },
    rounds: { type: 'string', default: '2' },
    /** The restic the laptop runs; default: the one Hearth would find (bundled, then PATH). */
    restic: { type: 'string' },
  },
});
const appId = values.app;
const labDevice = values['lab-device'];
const mib = Number(values.mib);
const rounds = Number(values.rounds);
const say = sayVerbose('backup');

const hearth = await laptopHearth(values, say);
const { services, device, deviceDoes } = hearth;
await hearth.install(appId);
const spec = await hearth.installedSpec(appId);
const volumeName = spec.volumes[0]?.name;
if (!volumeName) throw new Error(`${appId} has no volume`);
const volume = appPaths(appId).volume(volumeName);
const consoleLog = consoleLogPath({ appDir: appPaths(appId).dir });

// The app's data volume becomes `mib` MiB of random data, as root on the device.
await services.appControl.control(device.id, appId, 'stop');
const readiesBefore = await readies();
const replaced = await lab.exec(
  labDevice,
  [
    'sh',
    '-c',
    `set -e; f=${shellQuote(volume)}
head -c ${mib}M /dev/urandom > "$f.bench"
chown --reference="$f" "$f.bench"; chmod --reference="$f" "$f.bench"
mv -f "$f.bench" "$f"; stat -c %s "$f"`,
  ],
  { timeoutMs: 10 * 60_000 },
);
if (replaced.code !== 0) throw new Error(`replacing the volume: ${replaced.stderr.trim()}`);
const volumeBytes = Number(replaced.stdout.trim());
if (volumeBytes !== mib * 2 ** 20) throw new Error(`the volume has ${volumeBytes} bytes`);
await services.appControl.control(device.id, appId, 'start');
await untilReadyAgain();
say(`${appId}'s ${volumeName} volume is ${mib} MiB of random data; READY again`);

async function readies(): Promise<number> {
  return Number((await deviceDoes(`grep -c READY ${shellQuote(consoleLog)} || true`)).trim());
}
async function untilReadyAgain(before = readiesBefore): Promise<void> {
  const deadline = performance.now() + 120_000;
  while ((await readies()) <= before) {
    if (performance.now() > deadline) throw new Error(`${appId} did not reach READY again`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// OpenSSH as the hearth account with Hearth's key, the device's host key pinned.
const key = join(hearth.dir, 'hearth-key');
writeFileSync(key, hearth.privateKey, { mode: 0o600 });
const knownHosts = join(hearth.dir, 'known_hosts');
const scanned = await lab.laptop(['ssh-keyscan', '-T', '5', device.addresses[0] ?? ''], {
  timeoutMs: 30_000,
});
const hostLine = scanned.stdout
  .split('\n')
  .find(
    (l) =>
      l.trim() && fingerprintOfPublicKeyLine(l.slice(l.indexOf(' ') + 1)) === values.fingerprint,
  );
if (!hostLine) throw new Error("ssh-keyscan did not see the device's pinned host key");
writeFileSync(knownHosts, `${hostLine}\n`);

/** OpenSSH as the hearth account with Hearth's key and the pinned host key, running `command`. */
const sshArgv = (command: string) => [
  '-i',
  key,
  '-o',
  'IdentitiesOnly=yes',
  '-o',
  'BatchMode=yes',
  '-o',
  `UserKnownHostsFile=${knownHosts}`,
  '-o',
  'StrictHostKeyChecking=yes',
  `${HEARTH_USER}@${device.addresses[0]}`,
  command,
];

/** Resolves with the child's time in ms when it exits 0. */
function timedExit(child: ChildProcess, what: string, started: number): Promise<number> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`${what} exited ${code}: ${stderr.trim()}`));
    });
  });
}

/** `ssh hearth@device cat VOLUME > /dev/null`, in ms. */
async function sshCat(): Promise<number> {
  const devNull = openSync('/dev/null', 'w');
  try {
    const started = performance.now();
    const child = spawn('ssh', sshArgv(`cat ${shellQuote(volume)}`), {
      stdio: ['ignore', devNull, 'pipe'],
    });
    return await timedExit(child, 'ssh cat', started);
  } finally {
    closeSync(devNull);
  }
}

/**
 * `ssh hearth@device cat VOLUME | restic backup --stdin` into a fresh folder repository, in ms:
 * OpenSSH's output handed to restic as its stdin (no Node, no copy, no tar in between). No
 * laptop-side restic design gets more out of this link on this machine.
 */
async function sshCatIntoRestic(repo: string): Promise<number> {
  const env = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_PROGRESS_FPS: '2' };
  execFileSync(resticBinary, ['init', '-q', '-r', repo], { env });
  try {
    const started = performance.now();
    const ssh = spawn('ssh', sshArgv(`cat ${shellQuote(volume)}`), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const restic = spawn(
      resticBinary,
      ['-r', repo, 'backup', '--json', '--stdin', '--stdin-filename', '/piped', '--host', 'bench'],
      { env, stdio: [ssh.stdout, 'ignore', 'pipe'] },
    );
    // restic has the pipe now; this process keeps no end of it (nor reads a byte of it).
    ssh.stdout.destroy();
    const [, ms] = await Promise.all([
      timedExit(ssh, 'ssh cat', started),
      timedExit(restic, 'restic behind ssh cat', started),
    ]);
    return ms;
  } finally {
    execFileSync('rm', ['-rf', repo]);
  }
}

/**
 * CPU seconds this process and its waited-for children (ssh, restic) have used: the link's
 * shared machine makes wall time noisy, what a run costs in CPU is not.
 */
function cpuSeconds(): number {
  const own = process.cpuUsage();
  // /proc/self/stat after the command's name: fields 14 and 15 (0-based 13, 14 here) are the
  // reaped children's user and system time, in clock ticks (100 a second on Linux).
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (own.user + own.system) / 1e6 + (Number(fields[13]) + Number(fields[14])) / 100;
}
async function cpuOf<T>(run: () => Promise<T>): Promise<{ value: T; cpuS: number }> {
  const before = cpuSeconds();
  const value = await run();
  return { value, cpuS: cpuSeconds() - before };
}
/** Whether ssh2's native cipher binding loaded; without it ssh2 deciphers in JavaScript. */
const sshCrypto: 'native' | 'js' = (
  createRequire(import.meta.url)('ssh2/lib/protocol/crypto.js') as { bindingAvailable: boolean }
).bindingAvailable
  ? 'native'
  : 'js';

const resticBinary = values.restic ?? (await findRestic());
/** "0.18.0" from `restic 0.18.0 compiled with go1.24.4 on linux/amd64`. */
const resticVersion =
  /^restic (\S+)/.exec(execFileSync(resticBinary, ['version'], { encoding: 'utf8' }))?.[1] ?? '?';
const session = await hearth.asHearth();
const client = new DeviceClient(session, device.id);

/** The device client takeBackup is given, timing its copy (snapshotVolumes: pause, copy, resume). */
let copyMs = 0;
const timedClient = new Proxy(client, {
  get(target, prop) {
    if (prop === 'snapshotVolumes')
      return async (...args: Parameters<DeviceClient['snapshotVolumes']>) => {
        const started = performance.now();
        try {
          return await target.snapshotVolumes(...args);
        } finally {
          copyMs = performance.now() - started;
        }
      };
    const value: unknown = Reflect.get(target, prop, target);
    return typeof value === 'function'
      ? (value as (...a: unknown[]) => unknown).bind(target)
      : value;
  },
});

async function backup(restic: Restic, previous: LastPoint | null = null) {
  const started = performance.now();
  copyMs = 0;
  const result = await takeBackup(
    { device: timedClient, restic, clock: systemClock, log: silentLogger },
    { deviceId: device.id, spec, signal: new AbortController().signal, previous },
  );
  return { ms: performance.now() - started, copyMs, result };
}

export interface BackupRound {
  sshMs: number;
  /** The laptop's CPU seconds (ssh's) for the ssh cat, and Hearth's (Node and restic) for the full run. */
  sshCpuS: number;
  /** `ssh cat` handed straight to restic (sshCatIntoRestic), and the laptop's CPU for it. */
  pipeMs: number;
  pipeCpuS: number;
  fullCpuS: number;
  fullMs: number;
  /** Of fullMs: the device's copy (snapshotVolumes), before anything is streamed. */
  copyMs: number;
  pausedMs: number;
  fullTotalBytes: number;
  fullAddedBytes: number;
  /** The run after Counter stopped: its heartbeats since the full one changed the volume. */
  againMs: number;
  againAddedBytes: number;
  againUnchanged: boolean;
  /** The run after that one: nothing wrote the volume in between. */
  secondMs: number;
  secondTotalBytes: number;
  secondAddedBytes: number;
  /** Whether it found the data unchanged (no snapshot, nothing streamed). */
  secondUnchanged: boolean;
}
export interface BackupBench {
  volumeBytes: number;
  /** restic alone on the laptop side, per round: the same amount of random data from a local file, no link. */
  resticAlone: { ms: number; cpuS: number }[];
  sshCrypto: 'native' | 'js';
  resticVersion: string;
  shapes: { rate: string; rounds: BackupRound[] }[];
}
// restic by itself, as Hearth runs it (stdin, JSON progress, the repository's default
// compression), from a local file of random data into a fresh folder repository: what this
// machine's CPU lets a laptop-side restic do with no link and no Node in front of it.
const localData = join(hearth.dir, 'alone.bin');
execFileSync('sh', ['-c', `head -c ${mib}M /dev/urandom > ${shellQuote(localData)}`]);
const resticAlone: BackupBench['resticAlone'] = [];
for (let i = 0; i < rounds; i++) {
  const repo = join(hearth.dir, `alone-${i}`);
  const env = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_PROGRESS_FPS: '2' };
  execFileSync(resticBinary, ['init', '-q', '-r', repo], { env });
  const started = performance.now();
  const { cpuS } = await cpuOf(
    () =>
      new Promise<void>((resolve, reject) => {
        const input = openSync(localData, 'r');
        const child = spawn(
          resticBinary,
          [
            '-r',
            repo,
            'backup',
            '--json',
            '--stdin',
            '--stdin-filename',
            '/alone',
            '--host',
            'bench',
          ],
          { env, stdio: [input, 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('error', reject);
        child.on('exit', (code) => {
          closeSync(input);
          if (code === 0) resolve();
          else reject(new Error(`restic alone exited ${code}: ${stderr.trim()}`));
        });
      }),
  );
  resticAlone.push({ ms: performance.now() - started, cpuS });
  execFileSync('rm', ['-rf', repo]);
}
execFileSync('rm', ['-f', localData]);

const shapes: BackupBench['shapes'] = [];
for (const rate of values.shapes.split(',').map((s) => s.trim())) {
  await lab.shape(labDevice, rate);
  const done: BackupRound[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const ssh = await cpuOf(sshCat);
      const pipe = await cpuOf(() => sshCatIntoRestic(join(hearth.dir, `pipe-${rate}-${i}`)));
      const where = join(hearth.dir, `repo-${rate}-${i}`);
      const restic = new Restic({
        binary: resticBinary,
        repository: join(where, 'repo'),
        password: 'bench',
        cacheDir: join(where, 'cache'),
      });
      await restic.init();
      const { value: full, cpuS: fullCpuS } = await cpuOf(() => backup(restic));
      await services.appControl.control(device.id, appId, 'stop');
      const again = await backup(restic, full.result.lastPoint);
      const second = await backup(restic, again.result.lastPoint);
      const before = await readies();
      await services.appControl.control(device.id, appId, 'start');
      await untilReadyAgain(before);
      done.push({
        sshMs: ssh.value,
        sshCpuS: ssh.cpuS,
        pipeMs: pipe.value,
        pipeCpuS: pipe.cpuS,
        fullCpuS,
        fullMs: full.ms,
        copyMs: full.copyMs,
        pausedMs: full.result.pausedMs,
        fullTotalBytes: full.result.totalBytes,
        fullAddedBytes: full.result.bytesAdded,
        againMs: again.ms,
        againAddedBytes: again.result.bytesAdded,
        againUnchanged: again.result.unchangedSince !== null,
        secondMs: second.ms,
        secondTotalBytes: second.result.totalBytes,
        secondAddedBytes: second.result.bytesAdded,
        secondUnchanged: second.result.unchangedSince !== null,
      });
      say(`${rate} round ${i + 1}: ${JSON.stringify(done.at(-1))}`);
    }
  } finally {
    await lab.unshape(labDevice);
  }
  shapes.push({ rate, rounds: done });
}

console.log(
  JSON.stringify({
    volumeBytes,
    resticAlone,
    sshCrypto,
    resticVersion,
    shapes,
  } satisfies BackupBench),
);
session.close();
hearth.close();
process.exit(0);
