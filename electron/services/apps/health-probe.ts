// Is the app ready on this boot? A console line (read on the device), a TCP port or an
// HTTP path (tried from the laptop, as the owner's browser would).
import { connect } from 'node:net';
import type { DeviceRecord } from '../../../shared/model';
import { addressForMac } from '../device/app-status-report';
import type { DeviceClient } from '../device/device-client';
import { xenMac } from '../runtimes/xen-config';
import type { AppSpec } from './app-spec';

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
export async function guestAddressOf(client: DeviceClient, spec: AppSpec): Promise<string | null> {
  if (!isXen(spec)) return null;
  return addressForMac(await client.neighbours(), xenMac(spec.appId, client.deviceId));
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

/** Asks once whether the app is ready: its console (on the device) or its port (from here). */
export type Probe = (
  client: DeviceClient,
  device: DeviceRecord,
  spec: AppSpec,
  guestAddress: string | null,
) => Promise<boolean>;

export const probeOnce: Probe = async (client, device, spec, guestAddress = null) => {
  const health = spec.health;
  if (health.kind === 'console') return client.consoleShows(spec.appId, health.pattern);
  const published = spec.ports.find((p) => p.guest === health.port);
  const where = published && appEndpoint(spec, published, device.addresses[0], guestAddress);
  if (!where) return false;
  if (health.kind === 'tcp') return tcpOpen(where.host, where.port);
  return httpAnswers(`http://${where.host}:${where.port}${health.path}`);
};
