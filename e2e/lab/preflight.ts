import { existsSync } from 'node:fs';

/** Each tool the lab drives, with the Debian package that provides it. */
const tools: Record<string, string> = {
  debootstrap: 'debootstrap',
  'systemd-nspawn': 'systemd-container',
  ip: 'iproute2',
  tc: 'iproute2',
  nsenter: 'util-linux',
  chroot: 'coreutils',
  'ssh-keygen': 'openssh-client',
};
const kernelTools: Record<string, string> = {
  gcc: 'gcc',
  ld: 'binutils',
  'qemu-system-x86_64': 'qemu-system-x86',
  cpio: 'cpio',
  'dpkg-deb': 'dpkg',
  'apt-get': 'apt',
};

const searchPath = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const found = (tool: string): boolean => searchPath.some((dir) => existsSync(`${dir}/${tool}`));

/** The one-line reason the lab cannot run here, or undefined when it can. */
export function whyNot(
  opts: { kernels?: boolean; uid?: number; has?: (tool: string) => boolean } = {},
): string | undefined {
  if (process.platform !== 'linux') return 'the lab needs Linux';
  if ((opts.uid ?? process.getuid?.()) !== 0) {
    return 'the lab needs root (namespaces, mounts, containers): run it as root';
  }
  const need = { ...tools, ...(opts.kernels ? kernelTools : {}) };
  const has = opts.has ?? found;
  const missing = Object.entries(need).filter(([tool]) => !has(tool));
  if (missing.length) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    return `the lab needs ${missing.map(([t]) => t).join(', ')}: apt-get install ${pkgs}`;
  }
  return undefined;
}

export function assertCanRun(opts: { kernels?: boolean } = {}): void {
  const reason = whyNot(opts);
  if (reason) throw new LabUnavailable(reason);
}

export class LabUnavailable extends Error {}
