// Listens on the local network for a while for devices that announce themselves over
// mDNS (DNS-SD), and reports each one once. Built on bonjour-service; the full live
// discovery service (every interface, appear/disappear) grows from this.
import type { EventEmitter } from 'node:events';
import { Bonjour } from 'bonjour-service';
import type { Service } from 'bonjour-service';

export interface AnnouncedService {
  /** DNS-SD service type without underscores, e.g. "ssh" or "hearth". */
  type: string;
  name: string;
  host: string;
  port: number;
  addresses: string[];
}

export interface ListenOptions {
  types: string[];
  durationMs: number;
  signal: AbortSignal;
  onFound?: (service: AnnouncedService) => void;
}

export class MdnsUnavailableError extends Error {}

function toAnnounced(type: string, service: Service): AnnouncedService {
  return {
    type,
    name: String(service.name ?? ''),
    host: String(service.host ?? ''),
    port: Number(service.port ?? 0),
    addresses: Array.isArray(service.addresses) ? service.addresses.map(String) : [],
  };
}

/** Resolves with everything heard once the time is up or the signal aborts. */
export function listenForServices(options: ListenOptions): Promise<AnnouncedService[]> {
  return new Promise((resolve, reject) => {
    const found = new Map<string, AnnouncedService>();
    let settled = false;
    let bonjour: Bonjour;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      try {
        bonjour?.destroy();
      } catch {
        // The socket may never have opened; nothing to close then.
      }
      if (error) reject(error);
      else resolve([...found.values()]);
    };
    const onAbort = () => finish();
    const timer = setTimeout(() => finish(), options.durationMs);
    options.signal.addEventListener('abort', onAbort, { once: true });
    if (options.signal.aborted) return finish();

    try {
      bonjour = new Bonjour({}, (err: Error) => finish(new MdnsUnavailableError(err.message)));
      // multicast-dns emits 'error' (port in use, no permission) with nobody listening,
      // which would take the whole process down; and 'warning' for packets it cannot
      // decode, which we ignore: one bad packet on the LAN must not stop discovery.
      const socket = (bonjour as unknown as { server: { mdns: EventEmitter } }).server.mdns;
      socket.on('error', (err: Error) => finish(new MdnsUnavailableError(err.message)));
      socket.on('warning', () => undefined);
    } catch (err) {
      return finish(new MdnsUnavailableError((err as Error).message));
    }

    for (const type of options.types) {
      bonjour.find({ type }, (service) => {
        const announced = toAnnounced(type, service);
        const key = `${type}|${announced.name}|${announced.host}`;
        if (found.has(key) || settled) return;
        found.set(key, announced);
        options.onFound?.(announced);
      });
    }
  });
}
