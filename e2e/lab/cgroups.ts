import { existsSync, readFileSync } from 'node:fs';
import { readdir, rmdir } from 'node:fs/promises';

/**
 * Each device needs a cgroup of its own. With --keep-unit and no systemd on the machine, nspawn
 * leaves the container in its caller's cgroup, so all devices shared one, and their systemds
 * created and removed the same /system.slice/X.service directories under each other: units
 * then failed at random with "Failed at step CGROUP" (seen as a debian device refusing logins
 * because systemd-user-sessions never removed /run/nologin).
 */
export const labCgroup = 'hearth-lab';

/** Cgroup hierarchy roots: the one cgroup2 mount, or every v1 (and hybrid unified) hierarchy. */
export function cgroupRoots(): string[] {
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n');
  const roots = mounts
    .map((line) => line.split(' '))
    .filter(
      ([, path, type]) =>
        (type === 'cgroup' || type === 'cgroup2') && path?.startsWith('/sys/fs/cgroup'),
    )
    .map(([, path]) => path as string);
  return [...new Set(roots)];
}

/** Shell lines that move the current shell ($$) into the device's own cgroup everywhere. */
export function joinCgroupScript(device: string): string {
  return cgroupRoots()
    .map((root) => {
      const dir = `${root}/${labCgroup}/${device}`;
      return `mkdir -p '${dir}' 2>/dev/null && echo $$ > '${dir}/cgroup.procs' 2>/dev/null`;
    })
    .join('\n');
}

async function removeTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeTree(`${dir}/${e.name}`);
  await rmdir(dir).catch(() => undefined);
}

/** Removes the lab's (empty, once its processes are gone) cgroups; returns those left behind. */
export async function removeLabCgroups(): Promise<string[]> {
  // A device's last processes may still be exiting when down gets here, and rmdir of a cgroup
  // that still holds one fails (EBUSY): try again for a few seconds before calling it left.
  let left: string[] = [];
  for (let attempt = 0; attempt < 25; attempt++) {
    left = [];
    for (const root of cgroupRoots()) {
      const dir = `${root}/${labCgroup}`;
      if (!existsSync(dir)) continue;
      await removeTree(dir);
      if (existsSync(dir)) left.push(dir);
    }
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return left;
}

export function labCgroupDirs(): string[] {
  return cgroupRoots()
    .map((root) => `${root}/${labCgroup}`)
    .filter((dir) => existsSync(dir));
}

/**
 * The memory a device uses, in bytes, read from its own cgroup on this machine (the container
 * sees the machine's /proc/meminfo, shared with everything else here): what it is charged
 * without its file cache (the active and inactive file pages, which the kernel gives back when
 * asked), as MemTotal − MemAvailable would count it on a device of its own. cgroup v2's
 * memory.current, or v1's memory.usage_in_bytes (hierarchical: the device's units included).
 */
export function deviceMemoryInUse(device: string): number {
  for (const root of cgroupRoots()) {
    const dir = `${root}/${labCgroup}/${device}`;
    const v2 = existsSync(`${dir}/memory.current`);
    const usageFile = v2 ? `${dir}/memory.current` : `${dir}/memory.usage_in_bytes`;
    if (!existsSync(usageFile)) continue;
    const stat = new Map(
      readFileSync(`${dir}/memory.stat`, 'utf8')
        .split('\n')
        .map((line) => line.split(' '))
        .map(([key, value]) => [key, Number(value)] as const),
    );
    const prefix = v2 ? '' : 'total_';
    const file =
      (stat.get(`${prefix}active_file`) ?? 0) + (stat.get(`${prefix}inactive_file`) ?? 0);
    return Number(readFileSync(usageFile, 'utf8').trim()) - file;
  }
  throw new Error(`no memory cgroup for ${device} on this machine`);
}
