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
  const left: string[] = [];
  for (const root of cgroupRoots()) {
    const dir = `${root}/${labCgroup}`;
    if (!existsSync(dir)) continue;
    await removeTree(dir);
    if (existsSync(dir)) left.push(dir);
  }
  return left;
}

export function labCgroupDirs(): string[] {
  return cgroupRoots()
    .map((root) => `${root}/${labCgroup}`)
    .filter((dir) => existsSync(dir));
}
