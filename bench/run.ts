// `npm run bench`: speed measured on the lab's laptop side, each number beside a baseline
// measured in the same run (these machines are shared and noisy: only ratios compare).
//  - discovery: start to first device listed, Hearth vs avahi-browse (cold avahi cache)
//  - provisioning: a factory-fresh Pi prepared end to end, vs one SSH sign-in + `true`
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import * as lab from '../e2e/lab/lab';
import { whyNot } from '../e2e/lab/preflight';
import { avahiBrowseFirst, startLaptopAvahi } from './laptop-avahi';

const root = join(import.meta.dirname, '..');
const ROUNDS = Number(process.env.HEARTH_BENCH_ROUNDS ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function onLaptopTs(script: string, args: string[]): Promise<number> {
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
        const { ms } = JSON.parse(line) as { ms: number | null };
        if (ms === null) reject(new Error(`${script} timed out`));
        else resolve(ms);
      } catch {
        reject(new Error(`${script} printed ${JSON.stringify(out)}`));
      }
    });
  });
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

console.log(`Hearth benchmarks on the lab (${ROUNDS} rounds each; lower is better)\n`);
await lab.up({ devices: 1, personas: ['pi'] });
try {
  const pi = await lab.device('pi');

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

  const provisioning: number[] = [];
  const login: number[] = [];
  for (let i = 0; i < Math.min(ROUNDS, 3); i++) {
    // Factory-fresh each time, with new host keys.
    await lab.up({ devices: 1, personas: ['pi'] });
    const fresh = await lab.device('pi');
    const args = [
      '--address',
      fresh.address,
      '--fingerprint',
      fresh.hostKeyFingerprint,
      '--user',
      fresh.user,
      '--password',
      fresh.password,
    ];
    login.push(await onLaptopTs('provision-once.ts', [...args, '--baseline']));
    provisioning.push(await onLaptopTs('provision-once.ts', args));
  }
  row('provisioning: fresh Pi, end to end', provisioning, login, 'one SSH sign-in');
} finally {
  await lab.down();
}
