// The snapshot worker against a real QEMU on this machine (TCG): the counter unikernel, started
// by Hearth's own launcher scripts, runs and writes its heartbeat while QEMU's backup job copies
// its volume. What an owner relies on: the copy holds the volume's data, the app runs on
// afterwards, and nothing of the copy is left behind, in QEMU or on disk.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCounterKernels } from '../../../e2e/lab/counter-kernel';
import { parseCounterDisk } from '../../../e2e/lab/kernel-record';
import { counterLaunchSpec, writeLauncher } from '../runtimes/counter-test-kit';
import { snapshotScript } from './volume-scripts';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = ['qemu-system-x86_64', 'gcc', 'perl'].filter((c) => !has(c));
const skip = missing.length ? ` (skipped: ${missing.join(', ')} not installed; CI has them)` : '';

const mib = 1024 * 1024;
/** Random data a MiB in, after the kernel's own sectors, and a hole after it. */
const dataAt = 1 * mib;
const volumeSize = 24 * mib;

let root = '';
let appDir = '';
let vm: ChildProcess | undefined;
let data: Buffer;

async function bootCounter(volumePath: string): Promise<void> {
  const kernels = await buildCounterKernels();
  const spec = counterLaunchSpec(appDir, kernels[1], volumePath);
  await writeLauncher(spec);
  await writeFile(`${appDir}/spec.json`, '{"appId":"counter","target":"qemu-x86_64"}\n');
  vm = spawn('sh', [`${appDir}/run`], { cwd: appDir, stdio: 'ignore' });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const log = existsSync(`${appDir}/console.log`)
      ? await readFile(`${appDir}/console.log`, 'utf8')
      : '';
    if (log.includes('READY')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the counter kernel printed no READY');
}

function qmp(command: string): string {
  return spawnSync('sh', [`${appDir}/qmp`, command], { encoding: 'utf8' }).stdout;
}

/** Sends QMP lines to the VM in one connection; prints the replies to the query ones. */
function qmpLines(...lines: string[]): string {
  const perl = `use IO::Socket::UNIX; my $s = IO::Socket::UNIX->new(Peer => shift) or die; <$s>;
for my $c ('{"execute":"qmp_capabilities"}', @ARGV) {
  print $s "$c\\n"; while (my $l = <$s>) { next if $l =~ /"event"/; print $l if $c =~ /query/; last } }`;
  return spawnSync('perl', ['-e', perl, `${appDir}/qmp.sock`, ...lines], { encoding: 'utf8' })
    .stdout;
}

/** What QEMU still holds of a copy: its jobs and its nodes. */
function qemuLeftovers(): string {
  const out = qmpLines('{"execute":"query-jobs"}', '{"execute":"query-named-block-nodes"}');
  // A node shows once per name it is listed under (node and its file child are distinct).
  return [...new Set(out.match(/hearth-copy-\d+/g) ?? [])].join(' ');
}

/** How every good copy ends: the app runs, QEMU keeps nothing of it, the data folder holds the volume and this copy only, and the copy holds the volume's data. */
function expectCopyKept(tag: string): Buffer {
  expect(qmp('query-status')).toContain('"status": "running"');
  expect(qemuLeftovers()).toBe('');
  expect(readdirSync(`${appDir}/data`).sort()).toEqual(['disk.img', `disk.img.${tag}`]);
  const copy = readFileSync(`${appDir}/data/disk.img.${tag}`);
  expect(copy.subarray(dataAt, dataAt + data.length).equals(data)).toBe(true);
  return copy;
}

const snapshotInput = (tag: string) => ({
  dataDir: `${appDir}/data`,
  lockPath: `${appDir}/.hearth-copy.lock`,
  spec: `${appDir}/spec.json`,
  qmp: `${appDir}/qmp`,
  appId: 'counter',
  unit: 'hearth-app@counter.service',
  tag,
  watchdogSeconds: 60,
  volumes: ['disk'],
});

function snapshot(tag: string, path?: string) {
  const script = snapshotScript(snapshotInput(tag));
  return spawnSync('sh', ['-c', script], {
    encoding: 'utf8',
    timeout: 60_000,
    ...(path ? { env: { ...process.env, PATH: `${path}:${process.env.PATH ?? ''}` } } : {}),
  });
}

beforeEach(async () => {
  root = await mkdtemp(`${tmpdir()}/hearth-live-copy-`);
  appDir = `${root}/counter`;
  await mkdir(`${appDir}/data`, { recursive: true });
  data = randomBytes(4 * mib);
  const f = await open(`${root}/disk.img`, 'w');
  await f.write(data, 0, data.length, dataAt);
  await f.truncate(volumeSize);
  await f.close();
});
let mounted = '';
let proxied: ChildProcess | undefined;
afterEach(async () => {
  proxied?.kill('SIGKILL');
  proxied = undefined;
  if (existsSync(`${appDir}/qmp.sock`)) qmp('quit');
  vm?.kill('SIGKILL');
  vm = undefined;
  // Lazily: QEMU may still be on its way out of it.
  if (mounted) spawnSync('umount', ['-l', mounted]);
  mounted = '';
  await rm(root, { recursive: true, force: true });
});

describe('a running QEMU app is copied by QEMU while it runs', () => {
  it.skipIf(missing.length > 0)(
    `the copy holds the volume, the app runs on, and QEMU and the disk keep nothing of it${skip}`,
    async () => {
      const volume = `${appDir}/data/disk.img`;
      await rm(volume, { force: true });
      spawnSync('mv', [`${root}/disk.img`, volume]);
      await bootCounter(volume);

      const r = snapshot('t1');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('was-running yes\n');
      expect(r.stdout).toContain(`copy disk ${volumeSize}\n`);
      const copy = expectCopyKept('t1');
      expect(copy.length).toBe(volumeSize);
      // The kernel's boot record came along (sector 0), and its holes read as zeros.
      expect(parseCounterDisk(copy).boot).toEqual({ version: 1, counter: 1, checksumOk: true });
      expect(
        copy.subarray(dataAt + data.length).equals(Buffer.alloc(volumeSize - dataAt - data.length)),
      ).toBe(true);
    },
    60_000,
  );

  const noStrace = has('strace') ? '' : ' (skipped: strace not installed; CI has it)';
  it.skipIf(missing.length > 0 || noStrace !== '')(
    `QEMU never syncs the copy to the disk: it is read once and removed${skip || noStrace}`,
    async () => {
      const volume = `${appDir}/data/disk.img`;
      spawnSync('mv', [`${root}/disk.img`, volume]);
      await bootCounter(volume);
      // Every sync call of QEMU's threads (its copy job and node removal run in them) while the
      // snapshot runs; a sync of the copy means the device writes it all out to its disk.
      const log = `${root}/syncs.log`;
      const tracer = spawn(
        'strace',
        [
          '-f',
          '-qq',
          '-e',
          'trace=fsync,fdatasync,sync_file_range,syncfs',
          '-o',
          log,
          '-p',
          String(vm!.pid),
        ],
        { stdio: 'ignore' },
      );
      const tracerPid = async () =>
        /TracerPid:\s+(\d+)/.exec(await readFile(`/proc/${vm!.pid}/status`, 'utf8'))?.[1];
      while ((await tracerPid()) === '0') await new Promise((r) => setTimeout(r, 20));
      try {
        const r = snapshot('t8');
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(r.stdout).toContain('was-running yes\n');
      } finally {
        tracer.kill('SIGINT');
        await new Promise((resolve) => tracer.on('exit', resolve));
      }
      expect(
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => /sync/.test(l)),
      ).toEqual([]);
      expectCopyKept('t8');
    },
    60_000,
  );

  it.skipIf(missing.length > 0)(
    `reports the pause as soon as the app runs again, before the copy is done, as it ends${skip}`,
    async () => {
      const volume = `${appDir}/data/disk.img`;
      spawnSync('mv', [`${root}/disk.img`, volume]);
      await bootCounter(volume);
      // The last step of a copy (its move into place) held up for a second: a slow copy.
      const bin = `${root}/slow-bin`;
      await mkdir(bin);
      await writeFile(
        `${bin}/mv`,
        `#!/bin/sh\ncase "$*" in *.img.t7.partial*) sleep 1 ;; esac\nexec /bin/mv "$@"\n`,
        { mode: 0o755 },
      );
      const script = snapshotScript(snapshotInput('t7'));
      const child = spawn('sh', ['-c', script], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
      });
      let out = '';
      let atResumed: { running: boolean; copied: boolean; ended: boolean } | null = null;
      let ended = false;
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (!atResumed && out.includes('\nresumed\n'))
          atResumed = {
            running: qmp('query-status').includes('"status": "running"'),
            copied: existsSync(`${appDir}/data/disk.img.t7`),
            ended,
          };
      });
      const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      ended = true;
      expect(status).toBe(0);
      expect(atResumed).toEqual({ running: true, copied: false, ended: false });
      const [early = '', final = ''] = out.split('resumed\n');
      expect(early).toContain(`copy disk ${volumeSize}\n`);
      expect(early).toBe(final);
      expectCopyKept('t7');
    },
    60_000,
  );

  it.skipIf(missing.length > 0)(
    `a QEMU that does not know x-perf still copies while the app runs${skip}`,
    async () => {
      const volume = `${appDir}/data/disk.img`;
      spawnSync('mv', [`${root}/disk.img`, volume]);
      await bootCounter(volume);
      // Between the worker and QEMU: a QMP proxy that answers any command naming x-perf as a
      // QEMU without it would, and counts them.
      spawnSync('mv', [`${appDir}/qmp.sock`, `${appDir}/qemu.sock`]);
      const proxy = `use strict; use IO::Socket::UNIX; use IO::Select;
my ($at, $qemu, $log) = @ARGV; my $l = IO::Socket::UNIX->new(Local => $at, Listen => 5) or die;
open(my $f, ">>", $log) or die; $f->autoflush(1); print $f "listening\n";
while (my $c = $l->accept) { my $q = IO::Socket::UNIX->new(Peer => $qemu) or die;
  $c->autoflush(1); $q->autoflush(1); my $sel = IO::Select->new($c, $q);
  # Raw reads: a client sends one command and waits for its answer, so one read is one line.
  LINE: while (1) { for my $h ($sel->can_read) { sysread($h, my $b, 65536) or last LINE;
    if ($h != $c) { syswrite($c, $b) } elsif ($b =~ /x-perf/) {
      print $f "refused\\n"; syswrite($c, qq({"error": {"class": "GenericError", "desc": "Parameter 'x-perf' is unexpected"}}\\r\\n)) }
    else { syswrite($q, $b) } } }
  close $q; close $c }`;
      const log = `${root}/proxy.log`;
      proxied = spawn('perl', ['-e', proxy, `${appDir}/qmp.sock`, `${appDir}/qemu.sock`, log], {
        stdio: 'ignore',
      });
      while (!existsSync(log)) await new Promise((r) => setTimeout(r, 20));

      const r = snapshot('t6');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readFileSync(log, 'utf8')).toBe('listening\nrefused\n');
      expect(r.stdout).toContain('was-running yes\n');
      expect(Number(/paused-ms (\d+)/.exec(r.stdout)?.[1])).toBeLessThan(2000);
      expectCopyKept('t6');
    },
    60_000,
  );

  it.skipIf(missing.length > 0)(
    `a drive QEMU knows by another name is copied with cp while paused, and resumed${skip}`,
    async () => {
      // QEMU opened the volume through a link: its drive's file is not the volume's path.
      const volume = `${appDir}/data/disk.img`;
      await rm(volume, { force: true });
      spawnSync('mv', [`${root}/disk.img`, volume]);
      await symlink(volume, `${root}/via-link.img`);
      await bootCounter(`${root}/via-link.img`);

      const r = snapshot('t2');
      expect(r.stderr).toContain(
        'hearth: copied with cp, as QEMU could not copy: qmp: QEMU has no drive for',
      );
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('was-running yes\n');
      expectCopyKept('t2');
    },
    60_000,
  );

  it.skipIf(missing.length > 0 || process.getuid?.() !== 0)(
    `the disk filling up during QEMU's copy: disk-full, the app runs, nothing of the copy left${skip || (process.getuid?.() !== 0 ? ' (skipped: a small disk needs a tmpfs mount, which needs root; CI runs as root)' : '')}`,
    async () => {
      // A 24 MiB data disk: the 8 MiB volume and its copy fit when the check is made, but
      // something else fills the disk as the copy starts (here: right after its file is made).
      mounted = `${appDir}/data`;
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mounted]).status).toBe(
        0,
      );
      const volume = `${mounted}/disk.img`;
      await writeFile(volume, randomBytes(8 * mib));
      await bootCounter(volume);
      const bin = `${root}/bin`;
      await mkdir(bin);
      await writeFile(
        `${bin}/truncate`,
        `#!/bin/sh\n/usr/bin/truncate "$@" || exit\n: > ${bin}/ran\nhead -c 24M /dev/zero > ${mounted}/.filler 2>/dev/null\nexit 0\n`,
        { mode: 0o755 },
      );

      const r = snapshot('t3', bin);
      expect(r.status).toBe(28);
      // The copy was QEMU's (only it makes its file with truncate), not stopped by the check.
      expect(existsSync(`${bin}/ran`)).toBe(true);
      expect(r.stderr).toContain('hearth: disk-full');
      expect(qmp('query-status')).toContain('"status": "running"');
      expect(qemuLeftovers()).toBe('');
      // Only the live volume and what filled the disk (not Hearth's) remain.
      expect(readdirSync(mounted).sort()).toEqual(['.filler', 'disk.img']);
    },
    60_000,
  );

  it.skipIf(missing.length > 0)(
    `what a killed worker left in QEMU is cleared first, and the copy is still QEMU's${skip}`,
    async () => {
      const volume = `${appDir}/data/disk.img`;
      spawnSync('mv', [`${root}/disk.img`, volume]);
      await bootCounter(volume);
      // A node under the first job's name, as a worker killed mid-copy leaves it.
      await writeFile(`${root}/left.img`, Buffer.alloc(mib));
      qmpLines(
        `{"execute":"blockdev-add","arguments":{"driver":"raw","node-name":"hearth-copy-0","file":{"driver":"file","filename":"${root}/left.img"}}}`,
      );
      expect(qemuLeftovers()).toBe('hearth-copy-0');

      const r = snapshot('t4');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expectCopyKept('t4');
    },
    60_000,
  );

  it.skipIf(missing.length > 0)(
    `QEMU refusing the job once the VM is stopped: cp while still stopped, then resumed${skip}`,
    async () => {
      const volume = `${appDir}/data/disk.img`;
      spawnSync('mv', [`${root}/disk.img`, volume]);
      await bootCounter(volume);
      // A copy file one sector longer than the volume: QEMU refuses a backup job onto it.
      const bin = `${root}/bin`;
      await mkdir(bin);
      await writeFile(
        `${bin}/truncate`,
        `#!/bin/sh\n[ "$1" = -s ] && { s=$(( $2 + 512 )); shift 2; set -- -s "$s" "$@"; }\nexec /usr/bin/truncate "$@"\n`,
        { mode: 0o755 },
      );

      const r = snapshot('t5', bin);
      expect(r.stderr).toContain('hearth: copied while paused, as QEMU could not copy: qmp:');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('was-running yes\n');
      expect(r.stdout).toContain(`copy disk ${volumeSize}\n`);
      expectCopyKept('t5');
    },
    60_000,
  );
});
