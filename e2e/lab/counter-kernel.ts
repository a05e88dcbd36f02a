import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { run } from './command';
import { cacheDir } from './paths';

export const counterVersions = [1, 2, 3] as const;
export type CounterVersion = (typeof counterVersions)[number];

const sourceDir = fileURLToPath(new URL('../fixtures/counter-kernel/', import.meta.url));
const sources = ['boot.S', 'kernel.c', 'link.ld'];
const cflags = [
  '-m32',
  '-ffreestanding',
  '-fno-pic',
  '-fno-stack-protector',
  '-fno-asynchronous-unwind-tables',
  '-nostdlib',
  '-O2',
  '-Wall',
  '-Wextra',
];

async function sourceHash(): Promise<string> {
  const h = createHash('sha256');
  h.update(JSON.stringify(cflags));
  for (const s of sources) h.update(await readFile(`${sourceDir}/${s}`));
  return h.digest('hex').slice(0, 16);
}

/**
 * Builds the test kernel in every version with the machine's gcc (no multilib needed: it is
 * freestanding) and caches the ELFs by source hash. Returns version → path.
 */
export async function buildCounterKernels(): Promise<Record<CounterVersion, string>> {
  const dir = `${cacheDir}/counter-kernel-${await sourceHash()}`;
  const paths = Object.fromEntries(
    counterVersions.map((v) => [v, `${dir}/counter-v${v}.elf`]),
  ) as Record<CounterVersion, string>;
  if (existsSync(`${dir}/.complete`)) return paths;
  await mkdir(cacheDir, { recursive: true });
  for (const name of await readdir(cacheDir)) {
    if (name.startsWith('counter-kernel-') && name.includes('.tmp-'))
      await rm(`${cacheDir}/${name}`, { recursive: true, force: true });
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  await mkdir(tmp, { recursive: true });
  await run(['gcc', '-m32', '-c', `${sourceDir}/boot.S`, '-o', `${tmp}/boot.o`]);
  for (const v of counterVersions) {
    await run([
      'gcc',
      ...cflags,
      `-DVERSION=${v}`,
      '-c',
      `${sourceDir}/kernel.c`,
      '-o',
      `${tmp}/kernel-v${v}.o`,
    ]);
    await run([
      'ld',
      '-m',
      'elf_i386',
      '-T',
      `${sourceDir}/link.ld`,
      '-o',
      `${tmp}/counter-v${v}.elf`,
      `${tmp}/boot.o`,
      `${tmp}/kernel-v${v}.o`,
    ]);
  }
  await run(['touch', `${tmp}/.complete`]);
  if (existsSync(`${dir}/.complete`)) await rm(tmp, { recursive: true, force: true });
  else {
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  }
  return paths;
}

export type Accel = 'kvm' | 'tcg';

/**
 * The QEMU command line that runs the test kernel; what a Hearth launcher for such a kernel
 * looks like. The disk is the first ATA disk on the primary IDE channel (the kernel drives it
 * with PIO); isa-debug-exit lets a crash end QEMU with status 3; -no-reboot turns a triple fault
 * into an exit instead of a reboot loop.
 */
export function counterKernelArgv(opts: {
  accel: Accel;
  kernel: string;
  disk?: string;
  append?: string;
  serial?: string;
}): string[] {
  return [
    'qemu-system-x86_64',
    '-accel',
    opts.accel,
    '-m',
    '32',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-serial',
    opts.serial ?? 'stdio',
    ...(opts.disk ? ['-drive', `file=${opts.disk},format=raw,if=ide`] : []),
    '-kernel',
    opts.kernel,
    ...(opts.append ? ['-append', opts.append] : []),
  ];
}

/** QEMU's exit status when the kernel left through isa-debug-exit with value 1: (1 << 1) | 1. */
export const crashExitStatus = 3;
