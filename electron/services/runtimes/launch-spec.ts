// What a runtime needs to know to start one app on one device, and the checks every launcher
// runs before it writes a byte. The launchers put these values into shell scripts and config
// files that run as root under systemd, so anything not matching these narrow shapes is
// refused instead of escaped: an app id, a path or a boot argument can never become code.
import { HearthError } from '../../../shared/errors';
import { shortNamePattern } from '../../../shared/ids';

export interface LaunchSpec {
  appId: string; // shared/ids.ts
  appDir: string; // the app folder (device/layout.ts appPaths)
  arch: 'x86_64' | 'aarch64';
  kernelPath: string; // <appDir>/current (a symlink to images/<sha256>)
  initrdPath?: string;
  memoryMiB: number;
  volumes: { name: string; path: string }[]; // raw sparse files, in order
  disk: 'ide' | 'virtio'; // how the image expects its block devices
  /** internal: set when the app sleeps when idle: the runtime listens on loopback there. */
  ports: {
    name: string;
    guest: number;
    host: number;
    protocol: 'tcp' | 'udp';
    internal?: number;
  }[];
  bootArgs: string; // the kernel command line (may be empty)
  accel: 'kvm' | 'tcg'; // chosen by a real probe boot elsewhere; never trust /dev/kvm alone
  /** The device's Hearth id: Xen derives the guest's MAC from it (unique across the home). */
  hostId?: string;
  /** Solo5 tenders: the devices the image's manifest names (solo5-manifest.ts). */
  solo5?: { devices: { name: string; type: 'NET_BASIC' | 'BLOCK_BASIC' }[] };
}

/** A spec (or image) a launcher refuses; the message names the offending field. */
export class LaunchSpecError extends HearthError {
  constructor(message: string) {
    super('INVALID_INPUT', message);
    this.name = 'LaunchSpecError';
  }
}

export const appIdPattern = shortNamePattern;
export const volumeNamePattern = shortNamePattern;
// Absolute, no "..", and none of the characters that mean something to QEMU's option parser
// (","), xl's disk spec (",", ":" in some positions) or a shell; real device paths never need them.
const pathPattern = /^\/[A-Za-z0-9._/+-]*$/;
// A unix socket path must fit sun_path (108 bytes with the terminator); keep margin for
// "/qmp.sock".
const maxAppDirLength = 90;
export const minMemoryMiB = 8;
export const maxMemoryMiB = 65536;
export const maxBootArgsLength = 2048;

function fail(message: string): never {
  throw new LaunchSpecError(message);
}

export function checkPath(what: string, path: string): void {
  if (typeof path !== 'string' || !pathPattern.test(path))
    fail(
      `${what} must be an absolute path of letters, digits and . _ / + - (got ${JSON.stringify(path)})`,
    );
  if (path.split('/').some((part) => part === '..' || part === '.'))
    fail(`${what} must not contain "." or ".." components (got ${JSON.stringify(path)})`);
}

function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    fail(`${what} must be a port number from 1 to 65535 (got ${String(port)})`);
}

/** Throws a LaunchSpecError naming the first field that is out of shape. */
export function validateLaunchSpec(spec: LaunchSpec): void {
  if (typeof spec.appId !== 'string' || !appIdPattern.test(spec.appId))
    fail(`app id must match ${appIdPattern.source} (got ${JSON.stringify(spec.appId)})`);
  checkPath('app folder', spec.appDir);
  if (spec.appDir.length > maxAppDirLength)
    fail(`app folder path is longer than ${maxAppDirLength} characters`);
  if (spec.arch !== 'x86_64' && spec.arch !== 'aarch64')
    fail(`architecture must be x86_64 or aarch64 (got ${JSON.stringify(spec.arch)})`);
  checkPath('kernel', spec.kernelPath);
  if (spec.initrdPath !== undefined) checkPath('initrd', spec.initrdPath);
  if (
    !Number.isInteger(spec.memoryMiB) ||
    spec.memoryMiB < minMemoryMiB ||
    spec.memoryMiB > maxMemoryMiB
  )
    fail(`memory must be a whole number of MiB from ${minMemoryMiB} to ${maxMemoryMiB}`);
  if (spec.disk !== 'ide' && spec.disk !== 'virtio')
    fail(`disk must be ide or virtio (got ${JSON.stringify(spec.disk)})`);
  if (!Array.isArray(spec.volumes) || spec.volumes.length > 26) fail('at most 26 volumes');
  const volumeNames = new Set<string>();
  for (const v of spec.volumes) {
    if (typeof v.name !== 'string' || !volumeNamePattern.test(v.name))
      fail(`volume name must match ${volumeNamePattern.source} (got ${JSON.stringify(v.name)})`);
    if (volumeNames.has(v.name)) fail(`volume ${v.name} is listed twice`);
    volumeNames.add(v.name);
    checkPath(`volume ${v.name}`, v.path);
  }
  if (!Array.isArray(spec.ports) || spec.ports.length > 32) fail('at most 32 ports');
  const hostPorts = new Set<string>();
  for (const p of spec.ports) {
    if (typeof p.name !== 'string' || !volumeNamePattern.test(p.name))
      fail(`port name must match ${volumeNamePattern.source} (got ${JSON.stringify(p.name)})`);
    if (p.protocol !== 'tcp' && p.protocol !== 'udp')
      fail(`port ${p.name} protocol must be tcp or udp`);
    checkPort(`port ${p.name} guest port`, p.guest);
    checkPort(`port ${p.name} host port`, p.host);
    const key = `${p.protocol}/${p.host}`;
    if (hostPorts.has(key)) fail(`host port ${key} is published twice`);
    if (p.internal !== undefined) checkPort(`port ${p.name} internal port`, p.internal);
    hostPorts.add(key);
  }
  if (typeof spec.bootArgs !== 'string') fail('boot arguments must be text');
  if (spec.bootArgs.length > maxBootArgsLength)
    fail(`boot arguments are longer than ${maxBootArgsLength} characters`);
  // Printable ASCII only: no newline (would end a shell word or an xl.cfg string), no NUL, no
  // terminal escapes that would reach the console log.
  if (!/^[\x20-\x7e]*$/.test(spec.bootArgs))
    fail('boot arguments may contain only printable ASCII characters');
  if (spec.solo5 !== undefined) {
    if (!Array.isArray(spec.solo5.devices) || spec.solo5.devices.length > 63)
      fail('a Solo5 manifest names at most 63 devices');
    for (const d of spec.solo5.devices)
      // Solo5 itself allows only alphanumeric names (they become --net:NAME= options).
      if (
        !/^[A-Za-z0-9]{1,67}$/.test(d.name) ||
        (d.type !== 'NET_BASIC' && d.type !== 'BLOCK_BASIC')
      )
        fail(`Solo5 device ${JSON.stringify(d.name)} is out of shape`);
  }
  if (spec.accel !== 'kvm' && spec.accel !== 'tcg')
    fail(`accelerator must be kvm or tcg (got ${JSON.stringify(spec.accel)})`);
}
