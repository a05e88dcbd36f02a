// Real boots: the generated <appDir>/run, qmp and stop scripts, run with sh on this machine
// (TCG), start the lab's two fixtures exactly as Hearth will start them on a device: the
// counter unikernel (multiboot ELF, IDE disk, isa-debug-exit) and the networked web-app
// microVM (kernel + initrd, virtio-net with a published port, virtio-blk).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCounterKernels, crashExitStatus } from '../../../e2e/lab/counter-kernel';
import { parseCounterDisk } from '../../../e2e/lab/kernel-record';
import { buildWebApp } from '../../../e2e/lab/web-app';
import type { LaunchSpec } from './launch-spec';
import { counterLaunchSpec, writeLauncher } from './counter-test-kit';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = ['qemu-system-x86_64', 'gcc', 'perl'].filter((c) => !has(c));
const skipReason = missing.length
  ? `skipped: ${missing.join(' and ')} not installed (CI has them)`
  : '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

interface Running {
  child: ChildProcess;
  exit: Promise<number | null>;
  stderr: () => string;
}

function start(spec: LaunchSpec): Running {
  const child = spawn('sh', [`${spec.appDir}/run`], {
    cwd: spec.appDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout?.resume();
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, stderr: () => err };
}

/** Waits until the console log holds `count` READY lines (one per boot), or the VM ends. */
async function waitForReady(spec: LaunchSpec, vm: Running, count: number, ms: number) {
  const deadline = Date.now() + ms;
  let ended = false;
  void vm.exit.then(() => (ended = true));
  while (Date.now() < deadline) {
    const log = existsSync(`${spec.appDir}/console.log`)
      ? await readFile(`${spec.appDir}/console.log`, 'utf8')
      : '';
    // Linux resets the terminal before its init prints, so READY need not start a line.
    if ((log.match(/READY/g) ?? []).length >= count) return log;
    if (ended) throw new Error(`QEMU ended before READY: ${vm.stderr()}\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no READY within ${ms} ms: ${vm.stderr()}`);
}

function sh(script: string, ...args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync('sh', [script, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout };
}

describe('the QEMU launcher boots the lab fixtures', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(`${tmpdir()}/hearth-runtime-`);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it.skipIf(missing.length > 0)(
    `counter: READY, boot counter 1 → 2 on its IDE volume, pause/resume, graceful stop, crash exits non-zero ${skipReason}`,
    async () => {
      const kernels = await buildCounterKernels();
      const appDir = `${root}/counter`;
      await rm(appDir, { recursive: true, force: true });
      spawnSync('mkdir', ['-p', `${appDir}/data`]);
      const volume = `${appDir}/data/disk.img`;
      await writeFile(volume, '');
      await truncate(volume, 1024 * 1024);
      const spec = counterLaunchSpec(appDir, kernels[1], volume);
      await writeLauncher(spec);

      for (const boot of [1, 2]) {
        const vm = start(spec);
        const log = await waitForReady(spec, vm, boot, 15_000);
        expect(log).toContain(`hearth-counter v1 boot ${boot} mode normal`);
        expect(log.match(/^--- hearth: starting counter at /gm)).toHaveLength(boot);
        if (boot === 1) {
          // Pause and resume over QMP, as a backup does.
          expect(sh(`${appDir}/qmp`, 'stop').status).toBe(0);
          expect(sh(`${appDir}/qmp`, 'query-status').stdout).toContain('"status": "paused"');
          expect(sh(`${appDir}/qmp`, 'cont').status).toBe(0);
          expect(sh(`${appDir}/qmp`, 'query-status').stdout).toContain('"status": "running"');
        }
        // The stop script asks for an ACPI power-off (the counter kernel ignores it), then quits.
        expect(sh(`${appDir}/stop`).status).toBe(0);
        expect(await vm.exit).toBe(0);
        const disk = parseCounterDisk(await readFile(volume));
        expect(disk.boot).toEqual({ version: 1, counter: boot, checksumOk: true });
      }
      // The console log kept both boots.
      const log = await readFile(`${appDir}/console.log`, 'utf8');
      expect(log.match(/^READY\r?$/gm)).toHaveLength(2);

      // `crash` makes the kernel leave through isa-debug-exit: the run script exits non-zero,
      // which is what systemd's restart policy counts.
      await writeLauncher({ ...spec, bootArgs: 'crash' });
      const crashed = start(spec);
      expect(await crashed.exit).toBe(crashExitStatus);
      expect(parseCounterDisk(await readFile(volume)).boot?.counter).toBe(3);
    },
    30_000,
  );

  it.skipIf(missing.length > 0)(
    `web app: HTTP on a published host port, visit counter kept on its virtio volume across a restart ${skipReason}`,
    async () => {
      const image = await buildWebApp();
      const appDir = `${root}/web`;
      spawnSync('mkdir', ['-p', `${appDir}/data`]);
      const volume = `${appDir}/data/visits.img`;
      await writeFile(volume, '');
      await truncate(volume, 1024 * 1024);
      const port = await freePort();
      const spec: LaunchSpec = {
        appId: 'web-app',
        appDir,
        arch: 'x86_64',
        kernelPath: image.kernel,
        initrdPath: image.initrd,
        memoryMiB: 256,
        volumes: [{ name: 'visits', path: volume }],
        disk: 'virtio',
        ports: [{ name: 'http', guest: 80, host: port, protocol: 'tcp' }],
        bootArgs: image.append,
        accel: 'tcg',
      };
      await writeLauncher(spec);
      const visit = async (): Promise<string> =>
        (await (await fetch(`http://127.0.0.1:${port}/cgi-bin/visit`)).text()).trim();

      for (const [boot, expected] of [
        [1, ['visits 1', 'visits 2']],
        [2, ['visits 3']],
      ] as const) {
        const vm = start(spec);
        try {
          await waitForReady(spec, vm, boot, 40_000);
          for (const answer of expected) expect(await visit()).toBe(answer);
        } finally {
          expect(sh(`${appDir}/stop`).status).toBe(0);
          expect(await vm.exit).toBe(0);
        }
      }
    },
    100_000,
  );
});
