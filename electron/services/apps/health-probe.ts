// Is the app ready on this boot? A console line (read on the device), a TCP port or an
// HTTP path (tried from the laptop, as the owner's browser would).
import { connect } from 'node:net';
import type { DeviceRecord } from '../../../shared/model';
import { shellQuote } from '../device/shell-quote';
import type { SshSession } from '../ssh/ssh-session';
import type { AppSpec } from './app-spec';
import { APPS_DIR, BOOT_MARKER, addressForMac } from './app-status';
import { xenMac } from '../runtimes/xen-config';

const isXen = (spec: AppSpec): boolean => spec.target.startsWith('xen-');

/**
 * Where the laptop reaches one of an app's ports: the port QEMU forwards on the device; or, for
 * Xen, the guest itself (it sits on the LAN through the bridge, nothing is forwarded), which is
 * unknown until dom0 has seen it on the network.
 */
export function appEndpoint(
  spec: AppSpec,
  port: AppSpec['ports'][number],
  deviceHost: string | undefined,
  guestAddress: string | null,
): { host: string; port: number } | null {
  if (isXen(spec)) return guestAddress ? { host: guestAddress, port: port.guest } : null;
  return deviceHost ? { host: deviceHost, port: port.host } : null;
}

/** A Xen guest's address from dom0's neighbour table (null for other apps, or not yet seen). */
export async function guestAddressOf(
  session: SshSession,
  deviceId: string,
  spec: AppSpec,
): Promise<string | null> {
  if (!isXen(spec)) return null;
  const out = await session.exec('ip -4 neigh show', { timeoutMs: 15_000 });
  return addressForMac(out.stdout.split('\n').slice(0, 1024), xenMac(spec.appId, deviceId));
}

export function tcpOpen(host: string, port: number, timeoutMs = 1_500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function httpAnswers(url: string, timeoutMs = 3_000): Promise<boolean> {
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await response.body?.cancel();
    return response.status < 500;
  } catch {
    return false;
  }
}

export async function probeOnce(
  session: SshSession,
  device: DeviceRecord,
  spec: AppSpec,
  guestAddress: string | null = null,
): Promise<boolean> {
  const health = spec.health;
  if (health.kind === 'console') {
    const log = `${APPS_DIR}/${spec.appId}/console.log`;
    const script = `line=$(grep -n '^${BOOT_MARKER}' ${log} 2>/dev/null | tail -n 1 | cut -d: -f1); tail -n +"\${line:-1}" ${log} 2>/dev/null | grep -qF -- ${shellQuote(health.pattern)}`;
    return (await session.exec(`sh -c ${shellQuote(script)}`, { timeoutMs: 15_000 })).code === 0;
  }
  const published = spec.ports.find((p) => p.guest === health.port);
  const where = published && appEndpoint(spec, published, device.addresses[0], guestAddress);
  if (!where) return false;
  if (health.kind === 'tcp') return tcpOpen(where.host, where.port);
  return httpAnswers(`http://${where.host}:${where.port}${health.path}`);
}
