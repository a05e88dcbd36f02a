import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { run } from './command';
import { cacheDir } from './paths';

/** Virtio drivers in dependency order (each module's depends= in `modinfo`). */
export const virtioModules = [
  'virtio_ring',
  'virtio',
  'virtio_pci_legacy_dev',
  'virtio_pci_modern_dev',
  'virtio_pci',
  'failover',
  'net_failover',
  'virtio_net',
  'virtio_blk',
] as const;

const fixtureDir = fileURLToPath(new URL('../fixtures/web-app/', import.meta.url));
const fixtureFiles = ['init', 'www/index.html', 'www/cgi-bin/visit'];

export interface WebAppImage {
  kernel: string;
  initrd: string;
  /** Kernel command line: serial console, quiet, and exit (not hang) on panic. */
  append: string;
}

/** The versioned kernel package linux-image-amd64 points at (e.g. linux-image-6.1.0-56-amd64). */
async function kernelPackage(): Promise<string> {
  const out = await run(['apt-cache', 'depends', 'linux-image-amd64']);
  const m = /Depends: (linux-image-[0-9][^\s]*-amd64)/.exec(out);
  if (!m?.[1]) throw new Error('apt-cache knows no linux-image-amd64 (run apt-get update)');
  return m[1];
}

async function candidate(pkg: string): Promise<string> {
  const out = await run(['apt-cache', 'policy', pkg]);
  return /Candidate: (\S+)/.exec(out)?.[1] ?? 'unknown';
}

/**
 * Builds the networked test app: Debian's kernel plus an initramfs (cpio newc, gzip) holding
 * busybox-static, the virtio modules and the fixture's init and web root. Cached by the package
 * versions and fixture contents; the .debs are kept so a rebuild downloads nothing.
 */
export async function buildWebApp(
  log: (line: string) => void = () => undefined,
): Promise<WebAppImage> {
  const kpkg = await kernelPackage();
  const versions = `${kpkg}=${await candidate(kpkg)} busybox-static=${await candidate('busybox-static')}`;
  const h = createHash('sha256').update(versions).update(JSON.stringify(virtioModules));
  for (const f of fixtureFiles) h.update(f).update(await readFile(`${fixtureDir}/${f}`));
  const dir = `${cacheDir}/web-app-${h.digest('hex').slice(0, 16)}`;
  const image: WebAppImage = {
    kernel: `${dir}/vmlinuz`,
    initrd: `${dir}/initrd.gz`,
    append: 'console=ttyS0 quiet panic=-1',
  };
  if (existsSync(`${dir}/.complete`)) return image;

  log(`building the web app microVM (${versions})`);
  const debs = `${cacheDir}/debs-microvm`;
  await mkdir(debs, { recursive: true });
  const have = await readdir(debs);
  const want = [kpkg, 'busybox-static'].filter((p) => !have.some((f) => f.startsWith(`${p}_`)));
  if (want.length)
    await run(['apt-get', 'download', ...want], { cwd: debs, timeoutMs: 15 * 60_000 });
  const debFor = async (p: string): Promise<string> => {
    const f = (await readdir(debs))
      .filter((x) => x.startsWith(`${p}_`))
      .sort()
      .at(-1);
    if (!f) throw new Error(`apt-get download ${p} left no .deb`);
    return `${debs}/${f}`;
  };

  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  const x = `${tmp}/extract`;
  const root = `${tmp}/root`;
  await mkdir(x, { recursive: true });
  await run(['dpkg-deb', '-x', await debFor(kpkg), x]);
  await run(['dpkg-deb', '-x', await debFor('busybox-static'), x]);

  for (const d of ['bin', 'lib/modules', 'www/cgi-bin'])
    await mkdir(`${root}/${d}`, { recursive: true });
  await copyFile(`${x}/bin/busybox`, `${root}/bin/busybox`);
  await chmod(`${root}/bin/busybox`, 0o755);
  await symlink('busybox', `${root}/bin/sh`);
  const moduleFiles = (await run(['find', `${x}/lib/modules`, '-name', '*.ko*']))
    .split('\n')
    .filter(Boolean);
  for (const m of virtioModules) {
    const file = moduleFiles.find(
      (f) =>
        f
          .split('/')
          .pop()
          ?.replace(/\.ko(\.xz|\.zst)?$/, '') === m,
    );
    if (!file) throw new Error(`the kernel package has no ${m} module`);
    const out = `${root}/lib/modules/${m}.ko`;
    // busybox insmod reads plain .ko files only.
    if (file.endsWith('.xz')) await run(['sh', '-c', `xz -dc '${file}' > '${out}'`]);
    else if (file.endsWith('.zst')) await run(['sh', '-c', `zstd -dcq '${file}' > '${out}'`]);
    else await copyFile(file, out);
  }
  await writeFile(`${root}/lib/modules/order`, `${virtioModules.join('\n')}\n`);
  for (const f of fixtureFiles) await copyFile(`${fixtureDir}/${f}`, `${root}/${f}`);
  await chmod(`${root}/init`, 0o755);
  await chmod(`${root}/www/cgi-bin/visit`, 0o755);

  const vmlinuz = (await readdir(`${x}/boot`)).find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new Error(`${kpkg} has no boot/vmlinuz-*`);
  await copyFile(`${x}/boot/${vmlinuz}`, `${tmp}/vmlinuz`);
  await run([
    'sh',
    '-c',
    `cd '${root}' && find . | cpio -o -H newc --quiet | gzip -9 > '${tmp}/initrd.gz'`,
  ]);
  await rm(x, { recursive: true, force: true });
  await rm(root, { recursive: true, force: true });
  await writeFile(`${tmp}/.complete`, `${versions}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  for (const name of await readdir(cacheDir)) {
    if (/^web-app-[0-9a-f]+$/.test(name) && `${cacheDir}/${name}` !== dir) {
      await rm(`${cacheDir}/${name}`, { recursive: true, force: true });
    }
  }
  return image;
}

/**
 * The QEMU command line that runs the web app on a device, as Unikraft images with an initrd
 * rootfs are run: kernel + initrd, virtio-net with user-mode networking publishing `port` on
 * every address of the device (or on a tap the device made, with a MAC of its own, as a
 * tender's unikernel is attached), and the data volume, if any, as the first virtio disk.
 */
export function webAppArgv(opts: {
  accel: 'kvm' | 'tcg';
  kernel: string;
  initrd: string;
  append: string;
  disk?: string;
  net: { port: number } | { tap: string; mac: string };
  memoryMiB?: number;
}): string[] {
  const net = opts.net;
  const [netdev, mac] =
    'port' in net
      ? [`user,id=n0,hostfwd=tcp::${net.port}-:80`, '']
      : [`tap,id=n0,ifname=${net.tap},script=no,downscript=no`, `,mac=${net.mac}`];
  return [
    'qemu-system-x86_64',
    '-accel',
    opts.accel,
    '-m',
    String(opts.memoryMiB ?? 256),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-serial',
    'stdio',
    '-kernel',
    opts.kernel,
    '-initrd',
    opts.initrd,
    '-append',
    opts.append,
    '-netdev',
    netdev,
    // No option ROM: the guest boots from -kernel, not from the network.
    '-device',
    `virtio-net-pci,netdev=n0${mac},romfile=`,
    ...(opts.disk ? ['-drive', `file=${opts.disk},format=raw,if=virtio`] : []),
  ];
}
