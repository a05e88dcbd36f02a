// Is the app ready on this boot? A console line (read on the device), a TCP port or an
// HTTP path (tried from the laptop, as the owner's browser would).
import { connect } from 'node:net';
import type { DeviceRecord } from '../../../shared/model';
import { shellQuote } from '../provisioning/shell-quote';
import type { SshSession } from '../ssh/ssh-session';
import type { AppSpec } from './app-spec';
import { APPS_DIR, BOOT_MARKER } from './app-status';

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
): Promise<boolean> {
  const health = spec.health;
  if (health.kind === 'console') {
    const log = `${APPS_DIR}/${spec.appId}/console.log`;
    const script = `line=$(grep -n '^${BOOT_MARKER}' ${log} 2>/dev/null | tail -n 1 | cut -d: -f1); tail -n +"\${line:-1}" ${log} 2>/dev/null | grep -qF -- ${shellQuote(health.pattern)}`;
    return (await session.exec(`sh -c ${shellQuote(script)}`, { timeoutMs: 15_000 })).code === 0;
  }
  const published = spec.ports.find((p) => p.guest === health.port);
  const host = device.addresses[0];
  if (!published || !host) return false;
  if (health.kind === 'tcp') return tcpOpen(host, published.host);
  return httpAnswers(`http://${host}:${published.host}${health.path}`);
}
