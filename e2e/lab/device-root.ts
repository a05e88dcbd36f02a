import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { run } from './command';
import { cacheDir, debianMirror, debianSuite } from './paths';

/**
 * What every device holds. Later issues need qemu (the runtime), restic (backups), sftp (backups
 * to another device), busybox wget and curl (probes), nftables (a Solo5 tender app's forwarded
 * ports, as a Debian install has it). debootstrap resolves Depends only, so Recommends stay out
 * and the root stays small.
 */
export const devicePackages = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'openssh-server',
  'openssh-sftp-server',
  'avahi-daemon',
  'libnss-mdns',
  'sudo',
  'qemu-system-x86',
  'qemu-utils',
  'restic',
  'iproute2',
  'iputils-ping',
  'procps',
  'busybox',
  'curl',
  'kmod',
  'e2fsprogs',
  'nftables',
  // Real devices have it (ca-certificates needs it); the device scripts hash with it when
  // it is there (sha256-script.ts).
  'openssl',
] as const;

/** Bump when the build steps below change in a way that must invalidate cached roots. */
const recipeVersion = 3;

/** Debian releases a lab device can run: the default one, and Debian 11 for the bullseye persona. */
export type DebianSuite = typeof debianSuite | 'bullseye';

export function deviceRootKey(
  packages: readonly string[] = devicePackages,
  suite: DebianSuite = debianSuite,
): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ recipeVersion, suite, packages: [...packages].sort() }));
  return h.digest('hex').slice(0, 16);
}

/**
 * The default suite keeps its plain `rootfs-<key>` name (shared with every other checkout's lab);
 * another suite's root carries the suite in its name, so a lab that only knows the default never
 * takes it for one of its own old roots and removes it.
 */
const rootPrefix = (suite: DebianSuite): string =>
  suite === debianSuite ? 'rootfs-' : `rootfs-${suite}-`;

export const deviceRootPath = (suite: DebianSuite = debianSuite): string =>
  `${cacheDir}/${rootPrefix(suite)}${deviceRootKey(devicePackages, suite)}`;

const completeMarker = '.hearth-root-complete';

export function deviceRootReady(path = deviceRootPath()): boolean {
  return existsSync(`${path}/${completeMarker}`);
}

/**
 * Returns the cached Debian root, building it first if needed. The build happens in a temporary
 * directory renamed into place at the end, so an interrupted build is never mistaken for a root.
 */
export async function ensureDeviceRoot(
  log: (line: string) => void = () => undefined,
  suite: DebianSuite = debianSuite,
): Promise<string> {
  const final = deviceRootPath(suite);
  if (deviceRootReady(final)) return final;
  await mkdir(cacheDir, { recursive: true });
  await removeAbandonedBuilds();
  const tmp = `${final}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  const debs = `${cacheDir}/debs`;
  await mkdir(debs, { recursive: true });
  log(`building the device root (debootstrap ${suite}, once; cached as ${final})`);
  const started = Date.now();
  await run(
    [
      'debootstrap',
      '--variant=minbase',
      `--include=${devicePackages.join(',')}`,
      `--cache-dir=${debs}`,
      suite,
      tmp,
      debianMirror,
    ],
    { timeoutMs: 30 * 60_000 },
  );
  await finishRoot(tmp);
  await writeFile(`${tmp}/${completeMarker}`, `${new Date().toISOString()}\n`);
  if (deviceRootReady(final)) {
    // Another lab process won the race; its root is as good as ours.
    await rm(tmp, { recursive: true, force: true });
  } else {
    await rename(tmp, final);
  }
  await removeOtherRoots(final, suite);
  log(`device root ready in ${Math.round((Date.now() - started) / 1000)} s`);
  return final;
}

/** Makes the root generic: each device gets its own identity when its layer is created. */
async function finishRoot(root: string): Promise<void> {
  const script = [
    'set -e',
    'rm -f /etc/ssh/ssh_host_*',
    ': > /etc/machine-id',
    'rm -f /var/lib/dbus/machine-id',
    // Devices have no route out: timers that reach the archive would only fail noisily.
    'systemctl mask apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true',
    // A container's root is not remounted by it: the unit would only fail and mark boot degraded.
    'systemctl mask systemd-remount-fs.service >/dev/null 2>&1 || true',
    'apt-get clean',
    'rm -rf /var/lib/apt/lists/*',
    'passwd -l root >/dev/null',
  ].join('\n');
  await run(['chroot', root, '/bin/sh', '-c', script], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
  });
}

async function removeAbandonedBuilds(): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    const m = /^rootfs-(?:[a-z]+-)?[0-9a-f]+\.tmp-(\d+)$/.exec(name);
    if (m && !processAlive(Number(m[1]))) {
      await rm(`${cacheDir}/${name}`, { recursive: true, force: true });
    }
  }
}

/**
 * Roots of older package lists of this suite (`up` runs `down` first, so none is in use any
 * more), but the newest of them stays: checkouts of two branches whose lists differ share this
 * machine's lab, and each would otherwise rebuild its root after the other's build.
 */
async function removeOtherRoots(keep: string, suite: DebianSuite): Promise<void> {
  const old = new RegExp(`^${rootPrefix(suite)}[0-9a-f]+$`);
  const others: { path: string; builtMs: number }[] = [];
  for (const name of await readdir(cacheDir)) {
    const path = `${cacheDir}/${name}`;
    if (!old.test(name) || path === keep) continue;
    const builtMs = await stat(`${path}/${completeMarker}`).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    others.push({ path, builtMs });
  }
  others.sort((a, b) => b.builtMs - a.builtMs);
  for (const { path } of others.slice(1)) await rm(path, { recursive: true, force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
