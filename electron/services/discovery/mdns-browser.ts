// mDNS on one network interface: a bonjour-service (multicast-dns) socket joined to the
// mDNS group on that interface, asking for the service types Hearth cares about and
// keeping what it hears in a record cache with TTLs. An interface that cannot be used
// (port taken, no permission) reports 'failed' and never throws or stops the others.
import type { EventEmitter } from 'node:events';
import { Bonjour } from 'bonjour-service';
import type { Clock } from '../clock';
import type { LanInterface } from './interfaces';
import type { PacketLike } from './mdns-records';
import { browsedTypes, MdnsRecordCache } from './mdns-records';
import { acceptsSender, isDeviceAddress, MDNS_PORT } from './mdns-source';
import type { InterfaceStatus, MdnsServiceSighting, Timers } from './types';

export interface MdnsQuestion {
  name: string;
  type: 'PTR' | 'SRV' | 'TXT' | 'A';
}

/** The part of a multicast-dns instance discovery uses; tests pass a fake. */
export interface MdnsTransport {
  onResponse(listener: (packet: PacketLike, rinfo: { address: string }) => void): void;
  onReady(listener: () => void): void;
  /** 'error' (cannot bind: EADDRINUSE/EACCES) and 'warning' (bad packet, send failure). */
  onError(listener: (error: Error, fatal: boolean) => void): void;
  query(questions: MdnsQuestion[]): void;
  destroy(): void;
}

export type MdnsTransportFactory = (iface: LanInterface) => MdnsTransport;

/** What multicast-dns really is (bonjour-service's types do not expose it). */
interface MulticastDns extends EventEmitter {
  query(query: { questions: MdnsQuestion[] }, callback?: (error: Error | null) => void): void;
  destroy(callback?: () => void): void;
}

export interface BonjourTransportOptions {
  /** Default 5353; tests use a free port. */
  port?: number;
  /** Where the socket binds; default 0.0.0.0 (Linux delivers multicast only to such sockets). */
  bind?: string;
  /** Overrides the interface address used for the group membership and sends. */
  interfaceAddress?: string;
  /** Whether our own packets loop back to us; default true (another app on this computer may publish). */
  loopback?: boolean;
  /** false: no multicast at all, plain unicast on `ip`:`port` (the fuzz tests). */
  multicast?: boolean;
  ip?: string;
}

/** A real transport: one Bonjour instance (and so one multicast-dns socket) per interface. */
export function bonjourTransport(
  iface: LanInterface,
  options: BonjourTransportOptions = {},
): MdnsTransport {
  const errorListeners: ((error: Error, fatal: boolean) => void)[] = [];
  const emitError = (error: Error, fatal: boolean) => {
    for (const listener of errorListeners) listener(error, fatal);
  };
  // bonjour-service passes these options through to multicast-dns; its types omit them.
  const mdnsOptions: Record<string, unknown> = {
    interface: options.interfaceAddress ?? iface.address,
    bind: options.bind ?? '0.0.0.0',
    port: options.port ?? 5353,
    loopback: options.loopback ?? true,
    reuseAddr: true,
  };
  if (options.multicast === false) mdnsOptions.multicast = false;
  if (options.ip) mdnsOptions.ip = options.ip;
  const bonjour = new Bonjour(mdnsOptions, (error: Error) => emitError(error, false));
  const mdns = (bonjour as unknown as { server: { mdns: MulticastDns } }).server.mdns;
  // multicast-dns emits 'error' with nobody listening, which would crash the process.
  mdns.on('error', (error: Error) => emitError(error, true));
  mdns.on('warning', (error: Error) => emitError(error, false));
  let destroyed = false;
  const mdnsPort = options.port ?? MDNS_PORT;
  return {
    onResponse: (listener) => {
      mdns.on('response', (packet: PacketLike, rinfo: { address: string; port: number }) => {
        // Only the mDNS port, from this interface's own link (RFC 6762 sections 6 and 11).
        if (!destroyed && acceptsSender(iface, rinfo, mdnsPort)) listener(packet, rinfo);
      });
    },
    onReady: (listener) => {
      mdns.on('ready', listener);
    },
    onError: (listener) => {
      errorListeners.push(listener);
    },
    query: (questions) => {
      if (destroyed) return;
      try {
        mdns.query({ questions }, (error) => {
          if (error) emitError(error, false);
        });
      } catch (error) {
        emitError(error as Error, false);
      }
    },
    destroy: () => {
      if (destroyed) return;
      destroyed = true;
      try {
        bonjour.destroy();
      } catch {
        // The socket may never have opened.
      }
    },
  };
}

export const defaultTransportFactory: MdnsTransportFactory = (iface) => bonjourTransport(iface);

export interface InterfaceBrowserOptions {
  iface: LanInterface;
  transport: MdnsTransportFactory;
  clock: Clock;
  timers: Timers;
  onChange: () => void;
  onStatus: (status: InterfaceStatus) => void;
  /** How often to ask again for every service type (records are also refreshed by announcements). */
  requeryMs?: number;
  /** How often to drop expired records. */
  expireCheckMs?: number;
}

const serviceQuestions: MdnsQuestion[] = Object.keys(browsedTypes).map((name) => ({
  name,
  type: 'PTR',
}));

/** Browses one interface. */
export class InterfaceBrowser {
  readonly iface: LanInterface;
  readonly #options: Required<InterfaceBrowserOptions>;
  readonly #cache: MdnsRecordCache;
  readonly #handles: unknown[] = [];
  readonly #timeouts = new Set<unknown>();
  readonly #responseListeners = new Set<(packet: PacketLike) => void>();
  #transport: MdnsTransport | undefined;
  #status: InterfaceStatus;
  #lastMissingQuery = 0;

  constructor(options: InterfaceBrowserOptions) {
    this.iface = options.iface;
    this.#options = { requeryMs: 30_000, expireCheckMs: 1_000, ...options };
    // Address records off this link (loopback, the Internet, this computer) are dropped.
    this.#cache = new MdnsRecordCache({}, (address) => isDeviceAddress(this.iface, address));
    this.#status = { name: this.iface.name, address: this.iface.address, state: 'starting' };
  }

  get status(): InterfaceStatus {
    return this.#status;
  }

  get id(): string {
    return `${this.iface.name}/${this.iface.address}`;
  }

  start(): void {
    if (this.#transport) return;
    let transport: MdnsTransport;
    try {
      transport = this.#options.transport(this.iface);
    } catch (error) {
      this.#fail(error as Error);
      return;
    }
    this.#transport = transport;
    transport.onError((error, fatal) => {
      if (fatal) this.#fail(error);
    });
    transport.onReady(() => {
      if (this.#status.state === 'starting')
        this.#setStatus({ ...this.#status, state: 'listening' });
    });
    transport.onResponse((packet) => this.#onResponse(packet));
    // Ask now, soon again (a lost first packet is common), then periodically.
    this.query();
    for (const delay of [1_000, 3_000]) {
      const handle = this.#options.timers.setTimeout(() => {
        this.#timeouts.delete(handle);
        this.query();
      }, delay);
      this.#timeouts.add(handle);
    }
    this.#handles.push(
      this.#options.timers.setInterval(() => this.query(), this.#options.requeryMs),
    );
    this.#handles.push(
      this.#options.timers.setInterval(() => {
        if (this.#cache.expire(this.#options.clock.now())) this.#options.onChange();
      }, this.#options.expireCheckMs),
    );
  }

  /** Asks every browsed service type again. */
  query(): void {
    this.#transport?.query(serviceQuestions);
  }

  /** Sends questions on this interface and lets the caller see every response it accepted. */
  ask(questions: MdnsQuestion[], onResponse: (packet: PacketLike) => void): () => void {
    this.#responseListeners.add(onResponse);
    this.#transport?.query(questions);
    return () => this.#responseListeners.delete(onResponse);
  }

  services(): MdnsServiceSighting[] {
    return this.#cache.services(this.iface.name);
  }

  stop(): void {
    for (const handle of this.#handles) this.#options.timers.clearInterval(handle);
    this.#handles.length = 0;
    for (const handle of this.#timeouts) this.#options.timers.clearTimeout(handle);
    this.#timeouts.clear();
    this.#responseListeners.clear();
    this.#transport?.destroy();
    this.#transport = undefined;
    this.#cache.clear();
  }

  #onResponse(packet: PacketLike): void {
    const now = this.#options.clock.now();
    let changed: boolean;
    try {
      changed = this.#cache.ingest(packet, now);
    } catch {
      // The cache checks every field; this is a last line of defence for the process.
      return;
    }
    for (const listener of this.#responseListeners) {
      try {
        listener(packet);
      } catch {
        // A listener's bug must not stop browsing.
      }
    }
    if (!changed) return;
    this.#options.onChange();
    // Fill in what announcements left out (SRV/TXT for an instance, A for a host), at most once a second.
    if (now - this.#lastMissingQuery < 1_000) return;
    const { instances, hosts } = this.#cache.missing();
    const questions: MdnsQuestion[] = [
      ...instances.flatMap((name): MdnsQuestion[] => [
        { name, type: 'SRV' },
        { name, type: 'TXT' },
      ]),
      ...hosts.map((name): MdnsQuestion => ({ name, type: 'A' })),
    ];
    if (questions.length) {
      this.#lastMissingQuery = now;
      this.#transport?.query(questions);
    }
  }

  #fail(error: Error): void {
    const message = (error as Error & { code?: string }).code ?? error.message;
    this.#setStatus({ ...this.#status, state: 'failed', error: String(message).slice(0, 200) });
    this.#transport?.destroy();
    this.#transport = undefined;
    if (this.#cache.size) {
      this.#cache.clear();
      this.#options.onChange();
    }
  }

  #setStatus(status: InterfaceStatus): void {
    this.#status = status;
    this.#options.onStatus(status);
  }
}
