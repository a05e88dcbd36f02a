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
//  - backup: Counter's data volume replaced by 1 GiB of random data, the Pi's link shaped to
//    1 Gbit/s and then 300 Mbit/s; a full first backup (takeBackup into a fresh restic folder
//    repository on the laptop side) vs `ssh hearth@pi cat VOLUME > /dev/null` on the same link,
//    the app's paused time per GiB, and a second backup of the unchanged volume against the
//    first (time and bytes added) (backup-throughput.ts). 1 GiB rounds are slow: this row
//    does at most 2 rounds unless HEARTH_BENCH_BACKUP_ROUNDS says otherwise
// Environment:
//  - HEARTH_BENCH_ROUNDS=N          rounds per row (default 5; provisioning does at most 3)
//  - HEARTH_BENCH_ROWS=a,b          only these rows (discovery, provisioning, install, start,
//                                   backup; default all; `start` alone still installs Counter)
//  - HEARTH_BENCH_BACKUP_MIB=N      the backup row's volume size (default 1024)
//  - HEARTH_BENCH_BACKUP_ROUNDS=N   the backup row's rounds (default 2, or fewer rounds)
//  - HEARTH_BENCH_VERBOSE=1         every round's numbers (and install steps) on stderr
// All rows with 5 rounds took about 4 minutes on the 2-core CI machine, and the backup row
// (2 rounds of 1 GiB at each rate) about 7 minutes more.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildCounterKernels } from '../e2e/lab/counter-kernel';
import { labHandle } from '../e2e/lab/fixture';
import * as lab from '../e2e/lab/lab';
import { whyNot } from '../e2e/lab/preflight';
import { startTestCatalog } from '../e2e/support/test-catalog';
import type { TestCatalog } from '../e2e/support/test-catalog';
import { parseAppSpec } from '../electron/services/apps/app-spec';
import { appPaths, appUnitInShell, deviceLayout } from '../electron/services/device/layout';
import {
  assertSameCommand,
  handBootScript,
  launcherStartScript,
  launchSpecFor,
  parseMicros,
} from './counter-boot';
import type { BackupBench } from './backup-throughput';
import { avahiBrowseFirst, startLaptopAvahi } from '../e2e/lab/laptop-avahi';

const root = join(import.meta.dirname, '..');
const ROUNDS = Number(process.env.HEARTH_BENCH_ROUNDS ?? 5);
const ALL_ROWS = ['discovery', 'provisioning', 'install', 'start', 'backup'] as const;
const ROWS = new Set(
  (process.env.HEARTH_BENCH_ROWS ?? ALL_ROWS.join(',')).split(',').map((r) => r.trim()),
);
for (const r of ROWS)
  if (!(ALL_ROWS as readonly string[]).includes(r)) {
    console.error(`HEARTH_BENCH_ROWS: unknown row ${r} (rows: ${ALL_ROWS.join(', ')})`);
    process.exit(1);
  }
const VERBOSE = process.env.HEARTH_BENCH_VERBOSE === '1';
const BACKUP_MIB = Number(process.env.HEARTH_BENCH_BACKUP_MIB ?? 1024);
const BACKUP_ROUNDS = Number(process.env.HEARTH_BENCH_BACKUP_ROUNDS ?? Math.min(ROUNDS, 2));

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

const why = whyNot();
if (why) {
  console.error(`npm run bench needs the lab: ${why}.`);
  process.exit(1);
}

console.log(
  `Hearth benchmarks on the lab (${ROUNDS} rounds each; lower is better${ROWS.has('backup') ? `; backup: ${BACKUP_ROUNDS} rounds of ${BACKUP_MIB} MiB, MB/s higher is better` : ''})\n`,
);
await lab.up({ devices: 1, personas: ['pi'] });
// Whether the Pi is still as it came from the factory (provisioning rounds change it).
let factoryFresh = true;
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

  if (ROWS.has('install') || ROWS.has('start'))
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
        hypervisor: string;
        accel: string;
        failures: string[];
      }>('install-to-running.ts', [
        ...deviceArgs(fresh, catalog),
        '--kernel',
        kernel,
        '--rounds',
        String(ROWS.has('install') ? ROUNDS : 1),
      ]);
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
    const [launcher, byHand] = await startToReady('pi', 'counter').catch(async (error: unknown) => {
      await tellWhatTheDeviceSaid('pi');
      throw error;
    });
    row('start: systemctl start to READY', launcher, byHand, 'same QEMU cmd by hand');
  }

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
      ]);
      backupRows(result);
    });
} finally {
  await lab.down();
}

/**
 * Runs `fn` with the Pi factory-fresh (the lab brought up again if a row changed it) and the
 * signed test catalog served on the laptop side; what the device said is printed if it fails.
 */
async function onFreshPiWithCatalog(
  fn: (pi: lab.DeviceRecord, catalog: TestCatalog) => Promise<void>,
): Promise<void> {
  if (!factoryFresh) await lab.up({ devices: 1, personas: ['pi'] });
  factoryFresh = false;
  const fresh = await lab.device('pi');
  const catalog = await startTestCatalog(labHandle);
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
function backupRows({ volumeBytes, shapes }: BackupBench): void {
  const mib = volumeBytes / 2 ** 20;
  const size = mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`;
  const mbps = (ms: number) => volumeBytes / 1e6 / (ms / 1000);
  for (const { rate, rounds } of shapes) {
    const link = rate.replace(/^(\d+)gbit$/, '$1 Gbit/s').replace(/^(\d+)mbit$/, '$1 Mbit/s');
    const goal = rate === '1gbit' ? 0.8 : rate === '300mbit' ? 0.95 : null;
    const hearth = mbps(median(rounds.map((r) => r.fullMs)));
    const ssh = mbps(median(rounds.map((r) => r.sshMs)));
    const of = `(median of ${rounds.length})`;
    console.log(
      `${`backup: ${size} full, ${link}`.padEnd(34)} hearth ${hearth.toFixed(0).padStart(6)} MB/s   ${'ssh cat'.padEnd(22)} ${ssh.toFixed(0).padStart(6)} MB/s   ratio ${(hearth / ssh).toFixed(2)}${goal ? ` (goal ≥ ${goal})` : ''}   ${of}`,
    );
    // The first and the second backup of a round pause differently (see README), so apart.
    const perGiB = (ms: number[]) => (median(ms) * (1024 / mib)).toFixed(0);
    console.log(
      `${'backup:   paused per GiB'.padEnd(34)} hearth ${perGiB(rounds.map((r) => r.pausedMs)).padStart(6)} ms   (goal ≤ 1000; second backups ${perGiB(rounds.map((r) => r.secondPausedMs))} ms)   ${of}`,
    );
    const time = median(rounds.map((r) => r.secondMs)) / median(rounds.map((r) => r.fullMs));
    const added = median(rounds.map((r) => r.secondAddedBytes / r.secondTotalBytes)) * 100;
    console.log(
      `${'backup:   second, unchanged'.padEnd(34)} time ${time.toFixed(2)}× the first (goal ≤ 0.3)   added ${added.toFixed(3)}% of the bytes (goal ≤ 0.1%)   ${of}`,
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
 * Start-to-READY of an installed (stopped) app on one device, alternating Hearth's launcher
 * (`systemctl start hearth-app@APP`) with the QEMU command that launcher execs, run by hand as
 * root in a scratch folder with a copy of the app's data disk and the accelerator spec.json
 * records. Both are timed on the device by the same loop (counter-boot.ts), so the SSH and
 * nsenter hops of the bench itself are in neither number.
 */
async function startToReady(device: string, appId: string): Promise<[number[], number[]]> {
  const appDir = appPaths(appId).dir;
  const read = async (path: string) => {
    const r = await lab.exec(device, ['cat', path]);
    if (r.code !== 0) throw new Error(`reading ${path} on ${device}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const spec = parseAppSpec(await read(`${appDir}/spec.json`));
  if (!spec) throw new Error(`no readable spec.json for ${appId} on ${device}`);
  // The installer takes the arch from the device's capabilities; the target records it.
  const arch = spec.target.endsWith('aarch64') ? 'aarch64' : 'x86_64';
  const installed = launchSpecFor(spec, arch);
  assertSameCommand(await read(`${appDir}/run`), installed);
  const scratch = launchSpecFor(spec, arch, { appDir: `/root/hearth-bench-hand-${appId}` });
  const pattern = spec.health.kind === 'console' ? spec.health.pattern : 'READY';
  const timeoutS = 120;
  const time = async (what: string, script: string): Promise<number> => {
    const r = await lab.exec(device, ['sh', '-c', script], { timeoutMs: (timeoutS + 60) * 1000 });
    if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr.trim()}`);
    return parseMicros(r.stdout);
  };
  const ours: number[] = [];
  const hand: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ours.push(await time('systemctl start', launcherStartScript(installed, { pattern, timeoutS })));
    hand.push(
      await time(
        'the QEMU command by hand',
        handBootScript(scratch, spec.volumes, {
          pattern,
          timeoutS,
          copyVolumesFrom: `${appDir}/data`,
        }),
      ),
    );
    if (VERBOSE)
      console.error(
        `  [start] round ${i + 1} (${spec.accel}): launcher ${ours.at(-1)!.toFixed(0)} ms, by hand ${hand.at(-1)!.toFixed(0)} ms`,
      );
  }
  return [ours, hand];
}
