import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { run, sleep, tryRun, waitFor } from './command';
import type { RunOptions, RunResult } from './command';
import { joinCgroupScript } from './cgroups';
import { generateHostKeys } from './host-keys';
import type { HostKeyType } from './host-keys';
import { personaSetup } from './personas';
import type { Persona } from './personas';

/** Where a device lives on the machine: its overlay layers, merged root and console log. */
export function deviceDirs(dir: string): {
  upper: string;
  work: string;
  root: string;
  console: string;
} {
  return {
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    root: `${dir}/root`,
    console: `${dir}/console.log`,
  };
}

const devicePath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * A factory-fresh device: the cached root as the read-only lower layer, an empty upper layer of
 * its own (which keeps its disk state across poweroff/boot), then its identity and persona.
 */
export async function createLayer(opts: {
  lower: string;
  dir: string;
  hostname: string;
  persona: Persona;
  password: string;
}): Promise<Record<HostKeyType, string>> {
  const d = deviceDirs(opts.dir);
  await mkdir(d.upper, { recursive: true });
  await mkdir(d.work, { recursive: true });
  await mkdir(d.root, { recursive: true });
  await mountLayer(opts.lower, opts.dir);
  await writeFile(`${d.root}/etc/machine-id`, `${randomBytes(16).toString('hex')}\n`);
  const setup = personaSetup(opts.persona, opts.hostname, opts.password);
  for (const [path, [content, mode]] of Object.entries(setup.files)) {
    await mkdir(`${d.root}${path.slice(0, path.lastIndexOf('/'))}`, { recursive: true });
    await writeFile(`${d.root}${path}`, content);
    await chmod(`${d.root}${path}`, mode);
  }
  await run(['chroot', d.root, '/bin/sh', '-c', setup.script], {
    env: { PATH: devicePath, LANG: 'C' },
  });
  return generateHostKeys(d.root, `root@${opts.hostname}`);
}

export async function mountLayer(lower: string, dir: string): Promise<void> {
  const d = deviceDirs(dir);
  if (await isMountPoint(d.root)) return;
  await run([
    'mount',
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${lower},upperdir=${d.upper},workdir=${d.work}`,
    d.root,
  ]);
}

export async function isMountPoint(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[4] === path);
}

/** Powers a device on: systemd-nspawn boots its root with systemd as PID 1 in its namespace. */
export function bootDevice(opts: {
  name: string;
  dir: string;
  hostname: string;
  netns: string;
}): number {
  const d = deviceDirs(opts.dir);
  const args = [
    // No machined or D-Bus on this machine: nspawn must neither register nor make a scope unit.
    '--register=no',
    '--keep-unit',
    '--boot',
    `--directory=${d.root}`,
    `--machine=hearth-${opts.name}`,
    `--hostname=${opts.hostname}`,
    `--network-namespace-path=/run/netns/${opts.netns}`,
    '--console=read-only',
    '--resolv-conf=off',
    '--timezone=off',
    '--link-journal=no',
    ...(existsSync('/dev/kvm') ? ['--bind=/dev/kvm'] : []),
  ];
  const log = openSync(d.console, 'a');
  const options: SpawnOptions = {
    detached: true,
    stdio: ['ignore', log, log],
    // nspawn keeps /proc/sys read-only, and makes its net/ part writable only for a network
    // namespace it made itself, not for one it joins (--network-namespace-path). The device has
    // its own namespace, so its network settings are its own, as on a real device: a Solo5
    // app's port forwarding turns IP forwarding on (the agent's net-up).
    env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network' },
  };
  // A shell joins the device's own cgroup, then becomes nspawn (same pid).
  const script = `${joinCgroupScript(opts.name)}\nexec systemd-nspawn "$@"`;
  const child: ChildProcess = spawn('/bin/sh', ['-c', script, 'sh', ...args], options);
  closeSync(log);
  child.unref();
  if (child.pid === undefined) throw new Error(`systemd-nspawn did not start for ${opts.name}`);
  return child.pid;
}

export function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is as good as dead (a detached nspawn is reaped by init, not by us).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** The container's PID 1: nspawn's child (nsenter's target for exec). */
export async function containerInit(nspawnPid: number): Promise<number | undefined> {
  const children = await readFile(`/proc/${nspawnPid}/task/${nspawnPid}/children`, 'utf8').catch(
    () => '',
  );
  const pid = Number(children.trim().split(/\s+/)[0]);
  return pid > 0 ? pid : undefined;
}

/** Runs a command as root on the device, in all of its namespaces, with a clean environment. */
export async function execOnDevice(
  nspawnPid: number,
  argv: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return tryRun(await execArgv(nspawnPid, argv), options);
}

/** nsenter argv prefix for callers that need a live process (streams) rather than a result. */
export async function execArgv(nspawnPid: number, argv: readonly string[]): Promise<string[]> {
  const init = await containerInit(nspawnPid);
  if (!init) throw new Error('the device is not running');
  return [
    'nsenter',
    '-t',
    String(init),
    '-a',
    'env',
    '-i',
    `PATH=${devicePath}`,
    'HOME=/root',
    'LANG=C',
    'TERM=dumb',
    ...argv,
  ];
}

/**
 * Booted means systemd finished starting up and sshd (and avahi) run. A unit that failed during
 * boot is restarted once: a device that boots "degraded" may still refuse logins (a failed
 * systemd-user-sessions leaves /run/nologin behind).
 */
export async function waitBooted(
  nspawnPid: number,
  units: readonly string[],
  timeoutMs: number,
): Promise<void> {
  let retried = false;
  await waitFor(
    'the device to finish booting',
    async () => {
      if (!processAlive(nspawnPid)) {
        throw new Error('systemd-nspawn exited during boot (see its console.log)');
      }
      const r = await execOnDevice(nspawnPid, ['systemctl', 'is-system-running']).catch(
        () => undefined,
      );
      const s = r?.stdout.trim();
      if (s === 'degraded' && !retried) {
        retried = true;
        const failed = await execOnDevice(nspawnPid, [
          'systemctl',
          '--failed',
          '--plain',
          '--no-legend',
        ]);
        const names = failed.stdout
          .split('\n')
          .map((l) => l.trim().split(/\s+/)[0])
          .filter((u): u is string => !!u);
        if (names.length) {
          await execOnDevice(nspawnPid, ['systemctl', 'reset-failed', ...names]);
          await execOnDevice(nspawnPid, ['systemctl', 'restart', ...names]);
        }
        return undefined;
      }
      if (s !== 'running' && s !== 'degraded') return undefined;
      const active = await execOnDevice(nspawnPid, ['systemctl', 'is-active', ...units]);
      return active.code === 0 ? true : undefined;
    },
    timeoutMs,
    200,
  );
}

/** SIGTERM is nspawn's "press the power button": the container shuts down cleanly. */
export async function powerOffProcess(pid: number, timeoutMs = 30_000): Promise<void> {
  if (!processAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid) && Date.now() < deadline) await sleep(100);
  if (processAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (processAlive(pid)) await sleep(100);
  }
}

/** nspawn processes of this lab, found by the run directory in their command line. */
export async function labNspawnPids(runDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const argv = cmdline.split('\0');
    if (
      argv[0]?.endsWith('systemd-nspawn') &&
      argv.some((a) => a.startsWith(`--directory=${runDir}/`))
    ) {
      pids.push(Number(entry));
    }
  }
  return pids;
}
