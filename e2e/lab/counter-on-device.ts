import { readFile } from 'node:fs/promises';
import { buildCounterKernels, counterKernelArgv, counterVersions } from './counter-kernel';
import type { Accel, CounterVersion } from './counter-kernel';
import { parseCounterDisk, parseCounterSerial } from './kernel-record';
import type { CounterDisk, CounterSerial } from './kernel-record';
import { exec, putFile, requireState } from './lab';
import { writeState } from './state';

/** Where the lab puts the test kernels on a device. */
export const deviceKernelDir = '/opt/hearth-lab';
export const deviceKernel = (v: CounterVersion): string => `${deviceKernelDir}/counter-v${v}.elf`;

/** Builds (or takes from the cache) the test kernels and copies all versions onto a device. */
export async function installCounterKernels(device: string): Promise<void> {
  const built = await buildCounterKernels();
  for (const v of counterVersions) await putFile(device, deviceKernel(v), await readFile(built[v]));
}

/**
 * KVM when a probe boot of the test kernel reaches READY quickly (under working KVM it takes
 * well under a second), TCG otherwise. /dev/kvm existing proves nothing on these machines
 * (LAB.md): there, KVM took 5 s or never reached READY, and a Linux guest never came up.
 * The answer is kept in the lab state: all devices share the machine's kernel.
 */
export async function probeAccel(device: string, timeoutS = 3): Promise<Accel> {
  const state = await requireState();
  if (state.accel) return state.accel;
  let accel: Accel = 'tcg';
  if ((await exec(device, ['test', '-e', deviceKernel(1)])).code !== 0)
    await installCounterKernels(device);
  const hasKvm = await exec(device, ['test', '-c', '/dev/kvm']);
  if (hasKvm.code === 0) {
    const argv = counterKernelArgv({ accel: 'kvm', kernel: deviceKernel(1) });
    const r = await exec(device, ['timeout', '-s', 'KILL', String(timeoutS), ...argv]);
    if (parseCounterSerial(r.stdout).ready) accel = 'kvm';
  }
  const latest = await requireState();
  latest.accel = accel;
  await writeState(latest);
  return accel;
}

export interface CounterRun {
  /** QEMU's exit status: 124 when we stopped it, 3 after a crash through isa-debug-exit. */
  code: number;
  serial: CounterSerial;
  output: string;
  ms: number;
}

/**
 * Boots the test kernel on a device under QEMU for at most `seconds`, then stops it (SIGTERM,
 * which QEMU handles by closing its disks cleanly), and returns what its console said.
 */
export async function runCounterKernel(
  device: string,
  opts: { version: CounterVersion; disk: string; append?: string; seconds: number; accel?: Accel },
): Promise<CounterRun> {
  const accel = opts.accel ?? (await probeAccel(device));
  await exec(device, ['sh', '-c', `test -e '${opts.disk}' || truncate -s 1M '${opts.disk}'`]);
  const argv = counterKernelArgv({
    accel,
    kernel: deviceKernel(opts.version),
    disk: opts.disk,
    ...(opts.append ? { append: opts.append } : {}),
  });
  const started = Date.now();
  const r = await exec(device, ['timeout', '-s', 'TERM', String(opts.seconds), ...argv]);
  return {
    code: r.code,
    serial: parseCounterSerial(r.stdout),
    output: r.stdout + r.stderr,
    ms: Date.now() - started,
  };
}

export async function readCounterDisk(device: string, disk: string): Promise<CounterDisk> {
  const r = await exec(device, ['sh', '-c', `head -c 1024 '${disk}' | base64 -w0`]);
  if (r.code !== 0) throw new Error(`reading ${disk} on ${device}: ${r.stderr.trim()}`);
  return parseCounterDisk(Buffer.from(r.stdout.trim(), 'base64'));
}
