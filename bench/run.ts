// `npm run bench`: speed measured on the lab's laptop side, each number beside a baseline
// measured in the same run (these machines are shared and noisy: only ratios compare).
//  - discovery: start to first device listed, Hearth vs avahi-browse (cold avahi cache)
//  - provisioning: a factory-fresh Pi prepared end to end, vs one SSH sign-in + `true`
//  - install: Install click to Running for the lab's test unikernel (Counter, from a signed
//    test catalog served on the laptop side), vs one SSH sign-in + SFTP copy of the same
//    kernel + booting it by hand with the same QEMU command until READY (install-to-running.ts);
//    the download cache is emptied before every round. Where the Pi's /dev/kvm is unusable
//    (the lab), a second row repeats it with the Pi recorded as having no /dev/kvm.
//  - start: `systemctl start hearth-app@counter` to READY in its console log, vs the same QEMU
//    command (rebuilt from spec.json, checked against the device's run script) run by hand on
//    the same device with a scratch copy of the data disk, same accelerator (counter-boot.ts)
//  - boot: per runtime (QEMU, Xen, Solo5 hvt and spt), the owner's Start (the root agent's
//    `start`, as the hearth account, as Hearth sends it) to the image's first console line, vs
//    the same command by hand timed by the same loop on the device (start-on-device.ts); QEMU's
//    by-hand command is also timed with -bios qboot.rom. A runtime the Pi does not offer (in
//    the lab: Xen, hvt, spt) prints its one-line reason and is skipped
//  - update: "Update to 2.0.0" to the update committed, for Counter 1.0.0 → 2.0.0 from the
//    signed test catalog (its stability window set to nothing: that is waiting, not work), vs
//    Install click to Running of the same 2.0.0 image on the same Pi; and the app's downtime
//    during the update, from the step that stops it to the new version's health probe passing
//    (update-to-committed.ts)
//  - backup: Counter's data volume replaced by 1 GiB of random data, the Pi's link shaped to
//    1 Gbit/s and then 300 Mbit/s; a full first backup (takeBackup into a fresh restic folder
//    repository on the laptop side) vs `ssh hearth@pi cat VOLUME > /dev/null` on the same link,
//    the app's paused time per GiB, and beside both that `ssh cat` piped straight into restic
//    (the ceiling of any laptop-side restic); then, Counter stopped (its heartbeat writes its volume
//    every second), a backup that saves the heartbeats since in full, and a second backup of
//    the now unchanged volume against the first (time and bytes added; it finds the data
//    unchanged and makes no snapshot) (backup-throughput.ts). 1 GiB rounds are slow: this row
//    does at most 2 rounds unless HEARTH_BENCH_BACKUP_ROUNDS says otherwise
//  - sleep: 10 Visit counters (the same image under ids and ports of their own) installed
//    through Hearth and set to sleep when idle (sleep-setup.ts); then, from the laptop side, a
//    visitor's first request to the sleeping Visit counter (it wakes it) vs a request to the
//    same app awake (visit-timing.ts), and the device's memory in use (its cgroup, without file
//    cache) with the 10 asleep vs the same 10 woken by a visit each. A Solo5 runtime the device
//    lacks (in the lab: hvt, spt) prints its one-line reason and is skipped
// Two rows need no lab, and run first:
//  - watching: Hearth's services in a process of their own (bundled as the main process is,
//    run in plain Node) watching 20 in-process SSH devices with 5 apps each (every service
//    started, as the window's main process does), its CPU share and resident memory over a
//    fixed window after a warm-up, vs the same process with no device; idle and watching
//    processes alternate (watching-cost.ts)
//  - render: in Chromium, the real window over a fake window.hearth with 50 devices × 20 apps
//    on the Apps view; the frame in which one app's status change is shown, from its
//    animation-frame callback to the task after it, vs the same page's idle frame (apps-render.ts)
// Environment:
//  - HEARTH_BENCH_ROUNDS=N          rounds per row (default 5; provisioning does at most 3)
//  - HEARTH_BENCH_ROWS=a,b          only these rows (watching, render, discovery, provisioning,
//                                   install, start, boot, update, backup, sleep; default all; `start`
//                                   or `boot` alone still installs Counter)
//  - HEARTH_BENCH_WATCH_ROUNDS=N    the watching row's rounds (default 2, or fewer rounds)
//  - HEARTH_BENCH_WATCH_SECONDS=S   its measuring window (default 30, after a 10 s warm-up)
//  - HEARTH_BENCH_RENDER_CHANGES=N  the render row's status changes (default 40)
//  - HEARTH_BENCH_BACKUP_MIB=N      the backup row's volume size (default 1024)
//  - HEARTH_BENCH_BACKUP_ROUNDS=N   the backup row's rounds (default 2, or fewer rounds)
//  - HEARTH_BENCH_RESTIC=path       the laptop-side restic of the backup row (default: the
//                                   release line the installers bundle, scripts/laptop-restic.ts)
//  - HEARTH_BENCH_SLEEP_APPS=N      the sleep row's Visit counters (default 10)
//  - HEARTH_BENCH_SLEEP_MEMORY_ROUNDS=N  its memory rounds (default 2, or fewer rounds)
//  - HEARTH_BENCH_VERBOSE=1         every round's numbers (and install steps) on stderr
// All rows with 5 rounds took about 4 minutes on the 2-core CI machine, and the backup row
// (2 rounds of 1 GiB at each rate) about 7 minutes more; the watching row about 3 minutes and
// the render row under a minute.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCounterKernels } from '../e2e/lab/counter-kernel';
import { labHandle } from '../e2e/lab/fixture';
import * as lab from '../e2e/lab/lab';
import { whyNot } from '../e2e/lab/preflight';
import { startTestCatalog } from '../e2e/support/test-catalog';
import type { TestCatalog } from '../e2e/support/test-catalog';
import { appUnitInShell, deviceLayout } from '../electron/services/device/layout';
import type { DeviceCapabilities } from '../shared/model';
import { runtimes } from '../shared/runtimes';
import type { DeviceHypervisor, Runtime } from '../shared/runtimes';
import { bootSkipReason, qbootRom, startOnDevice } from './start-on-device';
import { putToSleep, SLEEP_RUNTIMES } from './sleep-on-device';
import type { SleepSetup } from './sleep-on-device';
import { deviceMemoryInUse } from '../e2e/lab/cgroups';
import { ensureLaptopRestic } from '../scripts/laptop-restic';
import type { BackupBench } from './backup-throughput';
import { avahiBrowseFirst, startLaptopAvahi } from '../e2e/lab/laptop-avahi';
import { measureAppsRender } from './apps-render';
import { sayVerbose } from './laptop-hearth';
import { measureWatchingCost } from './watching-cost';

const root = join(import.meta.dirname, '..');
const ROUNDS = Number(process.env.HEARTH_BENCH_ROUNDS ?? 5);
const LAB_ROWS = [
  'discovery',
  'provisioning',
  'install',
  'start',
  'boot',
  'update',
  'backup',
  'sleep',
] as const;
const ALL_ROWS = ['watching', 'render', ...LAB_ROWS] as const;
const ROWS = new Set(
  (process.env.HEARTH_BENCH_ROWS ?? ALL_ROWS.join(',')).split(',').map((r) => r.trim()),
);
for (const r of ROWS)
  if (!(ALL_ROWS as readonly string[]).includes(r)) {
    console.error(`HEARTH_BENCH_ROWS: unknown row ${r} (rows: ${ALL_ROWS.join(', ')})`);
    process.exit(1);
  }
const BACKUP_MIB = Number(process.env.HEARTH_BENCH_BACKUP_MIB ?? 1024);
const BACKUP_ROUNDS = Number(process.env.HEARTH_BENCH_BACKUP_ROUNDS ?? Math.min(ROUNDS, 2));
const WATCH_ROUNDS = Number(process.env.HEARTH_BENCH_WATCH_ROUNDS ?? Math.min(ROUNDS, 2));
const WATCH_SECONDS = Number(process.env.HEARTH_BENCH_WATCH_SECONDS ?? 30);
const RENDER_CHANGES = Number(process.env.HEARTH_BENCH_RENDER_CHANGES ?? 40);
const SLEEP_APPS = Number(process.env.HEARTH_BENCH_SLEEP_APPS ?? 10);
const SLEEP_MEMORY_ROUNDS = Number(
  process.env.HEARTH_BENCH_SLEEP_MEMORY_ROUNDS ?? Math.min(ROUNDS, 2),
);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs a bench script on the laptop side and parses the JSON of its last line. */
function onLaptopJson<T>(script: string, args: string[]): Promise<T> {
  const argv = lab.laptopArgv([
    process.execPath,
    '--import',
    'tsx',
    join(root, 'bench', script),
    ...args,
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', () => {
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${script} printed ${JSON.stringify(out)}`));
      }
    });
  });
}

async function onLaptopTs(script: string, args: string[]): Promise<number> {
  const { ms } = await onLaptopJson<{ ms: number | null }>(script, args);
  if (ms === null) throw new Error(`${script} timed out`);
  return ms;
}

/** How bench scripts on the laptop side are told the device (and the test catalog). */
function deviceArgs(d: lab.DeviceRecord, catalog?: { url: string; trustedKey: string }): string[] {
  const args = [
    '--address',
    d.address,
    '--fingerprint',
    d.hostKeyFingerprint,
    '--user',
    d.user,
    '--password',
    d.password,
  ];
  if (catalog) args.push('--catalog', catalog.url, '--trust-catalog-key', catalog.trustedKey);
  return args;
}

function row(name: string, hearth: number[], baseline: number[], baselineName: string): void {
  const h = median(hearth);
  const b = median(baseline);
  console.log(
    `${name.padEnd(34)} hearth ${h.toFixed(0).padStart(6)} ms   ${baselineName.padEnd(22)} ${b.toFixed(0).padStart(6)} ms   ratio ${(h / b).toFixed(2)}   (median of ${hearth.length})`,
  );
}

/** A row in `unit` with `digits` after the point, and whether Hearth's median is within `goal`. */
function rowIn(
  name: string,
  unit: string,
  digits: number,
  [hearth, baseline]: [number[], number[]],
  baselineName: string,
  limit: number | null,
): void {
  const h = median(hearth);
  const b = median(baseline);
  const goal =
    limit === null
      ? ''
      : ` (goal ≤ ${limit}${unit === '%' ? '' : ' '}${unit}${h <= limit ? '' : ', MISSED'})`;
  console.log(
    `${name.padEnd(34)} hearth ${h.toFixed(digits).padStart(6)} ${unit.padEnd(2)}   ${baselineName.padEnd(22)} ${b.toFixed(digits).padStart(6)} ${unit.padEnd(2)}   ratio ${(h / b).toFixed(2)}${goal}   (median of ${hearth.length})`,
  );
}

const labRows = LAB_ROWS.filter((r) => ROWS.has(r));
const why = labRows.length ? whyNot() : null;
if (why) {
  console.error(`npm run bench needs the lab for ${labRows.join(', ')}: ${why}.`);
  process.exit(1);
}

console.log(
  `Hearth benchmarks (${ROUNDS} rounds each; lower is better${ROWS.has('backup') ? `; backup: ${BACKUP_ROUNDS} rounds of ${BACKUP_MIB} MiB, MB/s higher is better` : ''})\n`,
);

if (ROWS.has('watching')) {
  const devices = 20;
  const appsEach = 5;
  const { idle, watching, asks } = await measureWatchingCost({
    devices,
    appsEach,
    rounds: WATCH_ROUNDS,
    warmupMs: 10_000,
    windowMs: WATCH_SECONDS * 1000,
    say: sayVerbose('watching'),
  });
  const unknown = asks.flatMap((a) => a.unknown);
  if (unknown.length)
    throw new Error(`the bench's devices were asked what they do not know: ${unknown[0]}`);
  const name = `watching ${devices}×${appsEach}:`;
  rowIn(
    `${name} CPU, % of a core`,
    '%',
    2,
    [watching.map((w) => w.cpuPercent), idle.map((w) => w.cpuPercent)],
    'same process, idle',
    5,
  );
  rowIn(
    `${name} resident memory`,
    'MB',
    0,
    [watching.map((w) => w.rssMaxMB), idle.map((w) => w.rssMaxMB)],
    'same process, idle',
    150,
  );
  const perMinute = median(asks.map((a) => a.status)) / (WATCH_SECONDS / 60) / devices;
  const others = Object.entries(asks.at(-1)?.other ?? {})
    .map(([op, n]) => `${n} ${op}`)
    .join(', ');
  console.log(
    `${''.padEnd(34)} (${WATCH_SECONDS} s windows; ${perMinute.toFixed(0)} status scripts a minute per device${others ? `; also ${others}` : ''}; ${watching.at(-1)?.running}/${devices * appsEach} apps running)`,
  );
}

if (ROWS.has('render')) {
  const { cards, changes, idle } = await measureAppsRender({
    changes: RENDER_CHANGES,
    say: sayVerbose('render'),
  });
  rowIn(
    'render: one status change, Apps',
    'ms',
    1,
    [changes.map((c) => c.frameMs), idle.map((c) => c.frameMs)],
    'idle frame',
    16,
  );
  console.log(
    `${''.padEnd(34)} (${cards} cards; of the frame, state update and Svelte ${median(changes.map((c) => c.scriptMs)).toFixed(1)} ms, the rest style, layout and paint)`,
  );
}

/** What Hearth recorded the Pi as (its record after provisioning) and the runtimes it offers. */
interface RecordedPi {
  hypervisor: DeviceHypervisor;
  capabilities: DeviceCapabilities;
  runtimes: Runtime[];
}

// Whether the Pi is still as it came from the factory (provisioning rounds change it).
let factoryFresh = true;
if (labRows.length) await onTheLab();

async function onTheLab(): Promise<void> {
  await lab.up({ devices: 1, personas: ['pi'] });
  try {
    const pi = await lab.device('pi');

    if (ROWS.has('discovery')) {
      const ours: number[] = [];
      const avahi: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        ours.push(await onLaptopTs('discovery-first-device.ts', ['--host', pi.hostname]));
        const daemon = await startLaptopAvahi(lab.laptopArgv);
        try {
          const ms = await avahiBrowseFirst(lab.laptopArgv, daemon.env, '_ssh._tcp', pi.hostname);
          if (ms === null) throw new Error('avahi-browse found nothing');
          avahi.push(ms);
        } finally {
          await daemon.stop();
        }
      }
      row('discovery: first device listed', ours, avahi, 'avahi-browse -rp');
    }

    if (ROWS.has('provisioning')) {
      const provisioning: number[] = [];
      const login: number[] = [];
      for (let i = 0; i < Math.min(ROUNDS, 3); i++) {
        // Factory-fresh each time, with new host keys.
        await lab.up({ devices: 1, personas: ['pi'] });
        const fresh = await lab.device('pi');
        const args = deviceArgs(fresh);
        login.push(await onLaptopTs('provision-once.ts', [...args, '--baseline']));
        provisioning.push(await onLaptopTs('provision-once.ts', args));
      }
      factoryFresh = false;
      row('provisioning: fresh Pi, end to end', provisioning, login, 'one SSH sign-in');
    }

    // What Hearth recorded the Pi as offering (for the boot row), from the install's device.
    let recorded = null as RecordedPi | null;
    if (ROWS.has('install') || ROWS.has('start') || ROWS.has('boot'))
      await onFreshPiWithCatalog(async (fresh, catalog) => {
        // The same bytes the catalog serves as Counter 1.0.0.
        const kernel = (await buildCounterKernels())[1];
        interface Series {
          hearth: number[];
          baseline: number[];
        }
        const result = await onLaptopJson<{
          asProvisioned: Series;
          withoutKvm: Series | null;
          hypervisor: DeviceHypervisor;
          capabilities: DeviceCapabilities;
          runtimes: Runtime[];
          accel: string;
          failures: string[];
        }>('install-to-running.ts', [
          ...deviceArgs(fresh, catalog),
          '--kernel',
          kernel,
          '--rounds',
          String(ROWS.has('install') ? ROUNDS : 1),
        ]);
        recorded = result;
        if (ROWS.has('install')) {
          const { asProvisioned, withoutKvm } = result;
          const baselineName = 'by hand: ssh+copy+boot';
          row(
            'install: click to Running',
            asProvisioned.hearth,
            asProvisioned.baseline,
            baselineName,
          );
          // The installer uses KVM only where the hearth account can open /dev/kvm (and falls back
          // to emulation when an app does not come up under it): say which one this number is.
          if (result.hypervisor === 'kvm' && result.accel === 'tcg')
            console.log(
              `${''.padEnd(34)} (the Pi has /dev/kvm, but not for the hearth account: the app ran under TCG)`,
            );
          if (withoutKvm)
            row(
              'install: same, Pi without /dev/kvm',
              withoutKvm.hearth,
              withoutKvm.baseline,
              baselineName,
            );
          for (const failure of new Set(result.failures)) {
            const times = result.failures.filter((f) => f === failure).length;
            console.log(
              `${''.padEnd(34)} (${times}x an install failed and was done again: ${failure})`,
            );
          }
        }
      });

    if (ROWS.has('start')) {
      const { launcher, byHand } = await startOnDevice('pi', 'counter', {
        rounds: ROUNDS,
        until: 'health',
        via: 'systemctl',
        say: sayVerbose('start'),
      }).catch(async (error: unknown) => {
        await tellWhatTheDeviceSaid('pi');
        throw error;
      });
      row('start: systemctl start to READY', launcher, byHand, 'same QEMU cmd by hand');
    }

    if (ROWS.has('boot') && recorded) await bootRows(recorded);

    if (ROWS.has('update'))
      await onFreshPiWithCatalog(async (fresh, catalog) => {
        // Two signed indexes a round, each later than the last: Counter 1.0.0, then 1.0.0 + 2.0.0.
        const indexes = Array.from({ length: ROUNDS }, () => ({
          older: catalog.publish([{ version: '1.0.0', kernel: 1 }]),
          newer: catalog.publish([
            { version: '1.0.0', kernel: 1 },
            { version: '2.0.0', kernel: 2 },
          ]),
        }));
        catalog.restore();
        const file = join(catalog.dir, 'bench-indexes.json');
        writeFileSync(file, JSON.stringify(indexes));
        const result = await onLaptopJson<{
          update: number[];
          downtime: number[];
          install: number[];
        }>('update-to-committed.ts', [
          ...deviceArgs(fresh, catalog),
          '--indexes',
          file,
          '--catalog-dir',
          catalog.dir,
        ]);
        row(
          'update: click to committed',
          result.update,
          result.install,
          'install click to Running',
        );
        console.log(
          `${'update:   app down during it'.padEnd(34)} hearth ${median(result.downtime).toFixed(0).padStart(6)} ms   (stop to the new version ready; median of ${result.downtime.length})`,
        );
      });

    if (ROWS.has('backup'))
      await onFreshPiWithCatalog(async (fresh, catalog) => {
        const result = await onLaptopJson<BackupBench>('backup-throughput.ts', [
          ...deviceArgs(fresh, catalog),
          '--lab-device',
          'pi',
          '--mib',
          String(BACKUP_MIB),
          '--shapes',
          '1gbit,300mbit',
          '--rounds',
          String(BACKUP_ROUNDS),
          '--restic',
          await benchRestic(),
        ]);
        backupRows(result);
      });

    if (ROWS.has('sleep'))
      await onFreshPiWithCatalog((fresh, catalog) => sleepRows(fresh, catalog), {
        visitCounters: SLEEP_APPS,
      });
  } finally {
    await lab.down();
  }
}

/**
 * Runs `fn` with the Pi factory-fresh (the lab brought up again if a row changed it) and the
 * signed test catalog served on the laptop side; what the device said is printed if it fails.
 */
async function onFreshPiWithCatalog(
  fn: (pi: lab.DeviceRecord, catalog: TestCatalog) => Promise<void>,
  catalogOptions: Parameters<typeof startTestCatalog>[1] = {},
): Promise<void> {
  if (!factoryFresh) await lab.up({ devices: 1, personas: ['pi'] });
  factoryFresh = false;
  const fresh = await lab.device('pi');
  const catalog = await startTestCatalog(labHandle, catalogOptions);
  try {
    await fn(fresh, catalog);
  } catch (error) {
    await tellWhatTheDeviceSaid('pi');
    throw error;
  } finally {
    await catalog.stop();
  }
}

/**
 * Per link rate: the full backup's throughput beside `ssh cat` of the volume (MB = 10^6 bytes,
 * both over the volume's bytes; Hearth's time is takeBackup's whole run, the device-side
 * copy and the image included), the app's paused time per GiB (the full backups' pauses,
 * and the second backups' apart, scaled from the volume's size), and the second backup of
 * the unchanged volume against the first.
 */
/**
 * The restic the backup row runs on the laptop side: the release line the installers bundle
 * (scripts/laptop-restic.ts), as owners run it; HEARTH_BENCH_RESTIC=path picks another (such
 * as Debian 12's /usr/bin/restic 0.14, what these machines have on PATH).
 */
async function benchRestic(): Promise<string> {
  return process.env.HEARTH_BENCH_RESTIC ?? (await ensureLaptopRestic());
}

function backupRows({
  volumeBytes,
  resticAlone,
  sshCrypto,
  resticVersion,
  shapes,
}: BackupBench): void {
  console.log(`backup: restic ${resticVersion} on the laptop side`);
  const mib = volumeBytes / 2 ** 20;
  const size = mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`;
  const mbps = (ms: number) => volumeBytes / 1e6 / (ms / 1000);
  // What this machine's CPU allows a laptop-side restic at all: the ceiling under every link.
  console.log(
    `${`backup: ${size}, restic alone`.padEnd(34)} restic ${mbps(
      median(resticAlone.map((r) => r.ms)),
    )
      .toFixed(0)
      .padStart(
        6,
      )} MB/s   CPU per GiB ${(median(resticAlone.map((r) => r.cpuS)) * (1024 / mib)).toFixed(1)} s   (a local file, no link, no Node)   (median of ${resticAlone.length})`,
  );
  for (const { rate, rounds } of shapes) {
    const link = rate.replace(/^(\d+)gbit$/, '$1 Gbit/s').replace(/^(\d+)mbit$/, '$1 Mbit/s');
    const goal = rate === '1gbit' ? 0.8 : rate === '300mbit' ? 0.95 : null;
    const hearth = mbps(median(rounds.map((r) => r.fullMs)));
    const ssh = mbps(median(rounds.map((r) => r.sshMs)));
    const of = `(median of ${rounds.length})`;
    console.log(
      `${`backup: ${size} full, ${link}`.padEnd(34)} hearth ${hearth.toFixed(0).padStart(6)} MB/s   ${'ssh cat'.padEnd(22)} ${ssh.toFixed(0).padStart(6)} MB/s   ratio ${(hearth / ssh).toFixed(2)}${goal ? ` (goal ≥ ${goal})` : ''}   ${of}`,
    );
    // The most any design with restic on the laptop gets: `ssh cat` piped into restic, nothing
    // of Hearth's in between. A goal above this ratio is out of this machine's reach.
    const pipe = mbps(median(rounds.map((r) => r.pipeMs)));
    console.log(
      `${'backup:   ceiling, ssh | restic'.padEnd(34)} pipe   ${pipe.toFixed(0).padStart(6)} MB/s   ${'ssh cat'.padEnd(22)} ${ssh.toFixed(0).padStart(6)} MB/s   ratio ${(pipe / ssh).toFixed(2)}   (no Node, no copy, no tar; hearth ${(hearth / pipe).toFixed(2)} of it)   ${of}`,
    );
    // The laptop's CPU for those bytes: on a machine shared with other work, throughput is
    // what the CPU left over allows, and this is the part of it that is Hearth's own.
    const perGiBCpu = (s: number[]) => (median(s) * (1024 / mib)).toFixed(1);
    console.log(
      `${'backup:   laptop CPU per GiB'.padEnd(34)} hearth ${perGiBCpu(rounds.map((r) => r.fullCpuS)).padStart(6)} s    ${'ssh cat'.padEnd(22)} ${perGiBCpu(rounds.map((r) => r.sshCpuS)).padStart(6)} s      (Node and restic; ssh2 ciphers: ${sshCrypto}; ssh cat | restic ${perGiBCpu(rounds.map((r) => r.pipeCpuS))} s)   ${of}`,
    );
    // Only the full backups pause: the later ones run with Counter stopped (see README).
    const perGiB = (ms: number[]) => (median(ms) * (1024 / mib)).toFixed(0);
    console.log(
      `${'backup:   paused per GiB'.padEnd(34)} hearth ${perGiB(rounds.map((r) => r.pausedMs)).padStart(6)} ms   (goal ≤ 1000)   ${of}`,
    );
    // The copy happens before the stream (the backup reads the copy): what it takes of the run
    // and what the rest, the stream into restic, makes of the link.
    const copy = median(rounds.map((r) => r.copyMs));
    const streamed = mbps(median(rounds.map((r) => r.fullMs - r.copyMs)));
    console.log(
      `${'backup:   copy on the device'.padEnd(34)} hearth ${perGiB(rounds.map((r) => r.copyMs)).padStart(6)} ms per GiB, ${((copy / median(rounds.map((r) => r.fullMs))) * 100).toFixed(0)}% of the run   the rest ${streamed.toFixed(0)} MB/s, ratio ${(streamed / ssh).toFixed(2)} beside ssh cat   ${of}`,
    );
    // A backup of the unchanged volume (Counter stopped) after one of the same data.
    const time = median(rounds.map((r) => r.secondMs)) / median(rounds.map((r) => r.fullMs));
    const added = median(rounds.map((r) => r.secondAddedBytes / r.secondTotalBytes)) * 100;
    const skipped = rounds.filter((r) => r.secondUnchanged).length;
    console.log(
      `${'backup:   second, unchanged'.padEnd(34)} time ${time.toFixed(2)}× the first (goal ≤ 0.3)   added ${added.toFixed(3)}% of the bytes (goal ≤ 0.1%)   ${of}; found unchanged ${skipped}/${rounds.length}`,
    );
    // The run between: Counter's heartbeats changed a sector since the full one, so it saves
    // everything again; what it adds is what a full run of barely changed data costs.
    const againTime = median(rounds.map((r) => r.againMs)) / median(rounds.map((r) => r.fullMs));
    const againAdded = median(rounds.map((r) => r.againAddedBytes / r.secondTotalBytes)) * 100;
    const againSkipped = rounds.filter((r) => r.againUnchanged).length;
    console.log(
      `${'backup:   full again, heartbeats'.padEnd(34)} time ${againTime.toFixed(2)}× the first   added ${againAdded.toFixed(3)}% of the bytes   ${of}; found unchanged ${againSkipped}/${rounds.length}`,
    );
  }
}

/** When an app row fails, what the device said is the first thing anyone needs. */
async function tellWhatTheDeviceSaid(device: string): Promise<void> {
  const said = await lab
    .exec(device, [
      'sh',
      '-c',
      `journalctl --no-pager -n 80 -u '${appUnitInShell('*')}'; tail -n 40 ${deviceLayout.appsDir}/*/console.log; ls -la ${deviceLayout.appsDir}/*`,
    ])
    .catch((e: unknown) => ({ stdout: String(e), stderr: '' }));
  console.error(`What ${device} said:\n${said.stdout}${said.stderr}`);
}

/**
 * Per runtime: the owner's Start (the agent's `start`, as the hearth account) to the image's
 * first console line, beside the launcher's command by hand; a runtime the Pi does not offer,
 * or that this row cannot measure yet, gets its one-line reason. QEMU's by-hand command is
 * also timed with qboot as firmware, the launcher left as it is.
 */
async function bootRows(pi: RecordedPi): Promise<void> {
  for (const runtime of runtimes) {
    const name = `boot: Start to 1st line, ${runtime}`;
    const why = bootSkipReason(runtime, pi, pi.runtimes);
    if (why) {
      console.log(`${name.padEnd(34)} (skipped: ${why})`);
      continue;
    }
    const series = await startOnDevice('pi', 'counter', {
      rounds: ROUNDS,
      until: 'first-line',
      via: 'agent',
      qboot: true,
      say: sayVerbose('boot'),
    }).catch(async (error: unknown) => {
      await tellWhatTheDeviceSaid('pi');
      throw error;
    });
    row(name, series.launcher, series.byHand, 'same QEMU cmd by hand');
    const qboot = series.byHandQboot;
    console.log(
      qboot.length
        ? `${''.padEnd(34)} (${series.accel}; by hand with -bios ${qbootRom}: ${median(qboot).toFixed(0)} ms, ${(median(qboot) / median(series.byHand)).toFixed(2)}× SeaBIOS's)`
        : `${''.padEnd(34)} (${series.accel}; no ${qbootRom} on the Pi to compare)`,
    );
  }
}

/**
 * The sleep rows: a visitor's first request to the sleeping Visit counter (the wake) beside a
 * request to it awake, and the device's memory in use with every Visit counter asleep beside
 * the same apps woken by a visit each (see the header). Solo5 runtimes the device lacks say why.
 */
async function sleepRows(pi: lab.DeviceRecord, catalog: TestCatalog): Promise<void> {
  const say = sayVerbose('sleep');
  const setup = await onLaptopJson<SleepSetup>('sleep-setup.ts', [
    ...deviceArgs(pi, catalog),
    '--apps',
    String(SLEEP_APPS),
  ]);
  const url = (port: number) => `http://${pi.address}:${port}/`;
  const visit = (ports: number[], awake: number) =>
    onLaptopJson<{ first: number[]; awake: number[] }>('visit-timing.ts', [
      ...ports.flatMap((p) => ['--url', url(p)]),
      '--awake',
      String(awake),
    ]);
  const [one] = setup.apps;
  if (!one) throw new Error('sleep-setup installed no app');
  const all = setup.apps.map((a) => a.appId);
  for (const runtime of SLEEP_RUNTIMES) {
    const name = `sleep: first visit, ${runtime}`;
    const why = bootSkipReason(
      runtime,
      setup,
      setup.runtimes,
      'this row installs only Visit counter (a QEMU image) so far',
    );
    if (why) {
      console.log(`${name.padEnd(34)} (skipped: ${why})`);
      continue;
    }
    const first: number[] = [];
    const awake: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await putToSleep('pi', setup.apps);
      const r = await visit([one.port], 5);
      first.push(...r.first);
      awake.push(median(r.awake));
      say(
        `round ${i + 1}: first visit ${r.first[0]!.toFixed(0)} ms, awake ${median(r.awake).toFixed(1)} ms`,
      );
    }
    rowIn(name, 'ms', 0, [first, awake], 'same app awake', null);
    const wake = first.map((f, i) => f - awake[i]!);
    console.log(
      `${''.padEnd(34)} (the wake itself, the first visit less an awake one: ${median(wake).toFixed(0)} ms; ${setup.accel})`,
    );
  }
  const asleep: number[] = [];
  const woken: number[] = [];
  const settle = () => new Promise((r) => setTimeout(r, 3_000));
  for (let i = 0; i < SLEEP_MEMORY_ROUNDS; i++) {
    await putToSleep('pi', setup.apps);
    await settle();
    asleep.push(deviceMemoryInUse('pi') / 1e6);
    // One visitor each, in turn (ten emulated boots at once would only measure the two cores).
    await visit(
      setup.apps.map((a) => a.port),
      0,
    );
    await settle();
    woken.push(deviceMemoryInUse('pi') / 1e6);
    say(
      `round ${i + 1}: ${asleep.at(-1)!.toFixed(0)} MB asleep, ${woken.at(-1)!.toFixed(0)} MB awake`,
    );
  }
  await putToSleep('pi', setup.apps);
  rowIn(
    `sleep: memory, ${all.length} apps asleep`,
    'MB',
    0,
    [asleep, woken],
    `same ${all.length} awake`,
    null,
  );
  console.log(
    `${''.padEnd(34)} (the device's cgroup without file cache; ${all.length} × ${setup.memoryMiB} MiB guests; awake: ${((median(woken) - median(asleep)) / all.length).toFixed(0)} MB more per app)`,
  );
}
