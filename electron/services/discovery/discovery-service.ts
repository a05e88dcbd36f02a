// Finds home devices: live mDNS browsing on every network interface, plus the fallbacks
// for networks where multicast does not get through ("Enter an address" and a bounded
// scan of the computer's own /24s for SSH). Publishes the device list, one entry per
// device identity, whenever it changes (coalesced).
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { HearthError } from '../../../shared/errors';
import type { Clock } from '../clock';
import { DeviceRegistry } from './device-registry';
import type { RegistryLimits } from './device-registry';
import type { InterfacesProvider, LanInterface } from './interfaces';
import {
  interfaceFor,
  interfacesSignature,
  isOnScannableSubnet,
  scanTargets,
  selectInterfaces,
} from './interfaces';
import type { MdnsTransportFactory } from './mdns-browser';
import { defaultTransportFactory, InterfaceBrowser } from './mdns-browser';
import type { PacketLike } from './mdns-records';
import { isDeviceAddress } from './mdns-source';
import { isIPv4, normalizeHostname } from './sanitize';
import type { TcpConnector } from './ssh-probe';
import { netConnector, readSshBanner } from './ssh-probe';
import type { ScanProgress } from './subnet-scan';
import { runScan } from './subnet-scan';
import type { DiscoveredDevice, InterfaceStatus, Timers } from './types';
import { systemTimers } from './types';

export interface DiscoveryServiceOptions {
  clock: Clock;
  publish: (devices: DiscoveredDevice[]) => void;
  /** Called when an interface starts listening or fails. */
  onInterfaceStatus?: (statuses: InterfaceStatus[]) => void;
  interfaces?: InterfacesProvider;
  /** One mDNS transport (socket) per interface address. */
  mdnsTransport?: MdnsTransportFactory;
  connect?: TcpConnector;
  /** Plain DNS for names that are not .local (IPv4 only). */
  dnsLookup?: (name: string) => Promise<string>;
  timers?: Timers;
  interfacePollMs?: number;
  requeryMs?: number;
  publishIntervalMs?: number;
  bannerTimeoutMs?: number;
  scanTimeoutMs?: number;
  scanConcurrency?: number;
  localNameTimeoutMs?: number;
  limits?: Partial<RegistryLimits>;
}

export interface ScanSubnetsOptions {
  signal?: AbortSignal;
  onProgress?: (progress: ScanProgress) => void;
}

const defaultDnsLookup = async (name: string): Promise<string> =>
  (await lookup(name, { family: 4 })).address;

export class DiscoveryService {
  readonly #o: Required<Omit<DiscoveryServiceOptions, 'onInterfaceStatus' | 'limits'>> &
    Pick<DiscoveryServiceOptions, 'onInterfaceStatus'>;
  readonly #registry: DeviceRegistry;
  readonly #browsers = new Map<string, InterfaceBrowser>();
  #interfaces: LanInterface[] = [];
  #signature = '';
  #poll: unknown;
  #publishTimer: unknown;
  #lastPublished = Number.NEGATIVE_INFINITY;
  #lastSnapshot = '';
  #running = false;
  readonly #pending = new Set<() => void>();

  constructor(options: DiscoveryServiceOptions) {
    this.#o = {
      interfaces: networkInterfaces,
      mdnsTransport: defaultTransportFactory,
      connect: netConnector,
      dnsLookup: defaultDnsLookup,
      timers: systemTimers,
      interfacePollMs: 3_000,
      requeryMs: 30_000,
      publishIntervalMs: 100,
      bannerTimeoutMs: 3_000,
      scanTimeoutMs: 1_500,
      scanConcurrency: 32,
      localNameTimeoutMs: 2_000,
      ...options,
    };
    this.#registry = new DeviceRegistry(options.limits);
    this.#registry.setInterfaceResolver((address) => interfaceFor(this.#interfaces, address)?.name);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#refreshInterfaces();
    this.#poll = this.#o.timers.setInterval(
      () => this.#refreshInterfaces(),
      this.#o.interfacePollMs,
    );
  }

  /** Closes every socket and timer. Manual and scan results are kept for the next start. */
  stop(): void {
    this.#running = false;
    if (this.#poll !== undefined) this.#o.timers.clearInterval(this.#poll);
    this.#poll = undefined;
    for (const [id, browser] of this.#browsers) {
      browser.stop();
      this.#registry.removeBrowser(id);
    }
    this.#browsers.clear();
    this.#signature = '';
    for (const cancel of [...this.#pending]) cancel();
    if (this.#publishTimer !== undefined) this.#o.timers.clearTimeout(this.#publishTimer);
    this.#publishTimer = undefined;
  }

  list(): DiscoveredDevice[] {
    return this.#registry.list();
  }

  get(key: string): DiscoveredDevice | undefined {
    return this.#registry.get(key);
  }

  interfaceStatus(): InterfaceStatus[] {
    return [...this.#browsers.values()].map((b) => b.status);
  }

  /** Asks every interface again for every service type (e.g. when the owner presses "Look again"). */
  refresh(): void {
    for (const browser of this.#browsers.values()) browser.query();
  }

  /** The SSH layer saw this host key at this address; returns that device's key afterwards. */
  learnHostKey(address: string, fingerprint: string): string | undefined {
    const key = this.#registry.learnHostKey(address, fingerprint);
    this.#changed();
    return key;
  }

  /** The Hearth ids and host names the LAN announces for an address (claims, not proof). */
  claimsAt(address: string): { hearthIds: string[]; hostnames: string[] } {
    return this.#registry.claimsAt(address);
  }

  /**
   * "Enter an address": an IPv4 address or a name (name.local is asked over mDNS, other
   * names over DNS). Reads the SSH banner on port 22 and lists the device.
   */
  async addByAddress(input: string, signal?: AbortSignal): Promise<DiscoveredDevice> {
    const text = typeof input === 'string' ? input.trim() : '';
    let address: string;
    let hostname: string | undefined;
    if (isIPv4(text)) {
      address = text;
      const first = Number(text.split('.')[0]);
      if (first === 0 || first >= 224) throw new HearthError('INVALID_INPUT');
    } else {
      hostname = normalizeHostname(text);
      if (!hostname || (!hostname.includes('.') && !/^[a-z0-9-]+$/.test(hostname)))
        throw new HearthError('INVALID_INPUT');
      address = hostname.endsWith('.local')
        ? await this.#resolveLocalName(hostname, signal)
        : await this.#o.dnsLookup(hostname).catch((error: unknown) => {
            throw new HearthError('DEVICE_UNREACHABLE', undefined, { cause: error });
          });
      if (!isIPv4(address)) throw new HearthError('DEVICE_UNREACHABLE');
    }
    if (signal?.aborted) throw new HearthError('CANCELLED');
    const banner = await readSshBanner(address, 22, {
      connect: this.#o.connect,
      timeoutMs: this.#o.bannerTimeoutMs,
      signal,
      timers: this.#o.timers,
    });
    this.#interfaces = this.#currentInterfaces();
    this.#registry.addAddressSighting({
      address,
      port: 22,
      banner,
      hostname,
      source: 'manual',
      interfaceName: interfaceFor(this.#interfaces, address)?.name,
      lastSeen: this.#o.clock.now(),
    });
    this.#changed();
    const device = this.#registry
      .list()
      .find((d) => d.addresses.includes(address) && (!hostname || d.hostnames.includes(hostname)));
    if (!device) throw new HearthError('INTERNAL');
    return device;
  }

  /**
   * Looks for SSH on each interface's own /24 (never larger; no /31 or /32 links, never
   * this computer), a few addresses at a time. Resolves with the devices found.
   */
  async scanSubnets(options: ScanSubnetsOptions = {}): Promise<DiscoveredDevice[]> {
    this.#interfaces = this.#currentInterfaces();
    const targets = new Map<string, LanInterface>();
    for (const iface of this.#interfaces) {
      for (const address of scanTargets(iface)) {
        if (!isOnScannableSubnet(iface, address)) continue;
        if (this.#interfaces.some((own) => own.address === address)) continue;
        if (!targets.has(address)) targets.set(address, iface);
      }
    }
    const found = await runScan<string>({
      targets: [...targets.keys()],
      concurrency: this.#o.scanConcurrency,
      signal: options.signal,
      onProgress: options.onProgress,
      probe: (address, signal) =>
        readSshBanner(address, 22, {
          connect: this.#o.connect,
          timeoutMs: this.#o.scanTimeoutMs,
          signal,
          timers: this.#o.timers,
        }),
      onFound: (address, banner) => {
        this.#registry.addAddressSighting({
          address,
          port: 22,
          banner,
          source: 'scan',
          interfaceName: targets.get(address)?.name,
          lastSeen: this.#o.clock.now(),
        });
        this.#changed();
      },
    });
    const addresses = new Set(found.keys());
    return this.#registry.list().filter((d) => d.addresses.some((a) => addresses.has(a)));
  }

  #currentInterfaces(): LanInterface[] {
    try {
      return selectInterfaces(this.#o.interfaces());
    } catch {
      return this.#interfaces;
    }
  }

  #refreshInterfaces(): void {
    if (!this.#running) return;
    const list = this.#currentInterfaces();
    const signature = interfacesSignature(list);
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#interfaces = list;
    const wanted = new Map(list.map((iface) => [`${iface.name}/${iface.address}`, iface]));
    for (const [id, browser] of this.#browsers) {
      const now = wanted.get(id);
      if (now && now.prefixLength === browser.iface.prefixLength) continue;
      browser.stop();
      this.#browsers.delete(id);
      this.#registry.removeBrowser(id);
    }
    for (const [id, iface] of wanted) {
      if (this.#browsers.has(id)) continue;
      const browser = new InterfaceBrowser({
        iface,
        transport: this.#o.mdnsTransport,
        clock: this.#o.clock,
        timers: this.#o.timers,
        requeryMs: this.#o.requeryMs,
        onChange: () => {
          if (this.#browsers.get(id) !== browser) return;
          this.#registry.setMdnsSightings(id, browser.services());
          this.#changed();
        },
        onStatus: () => this.#o.onInterfaceStatus?.(this.interfaceStatus()),
      });
      this.#browsers.set(id, browser);
      browser.start();
    }
    // Interfaces changed: ask again everywhere (a new network may hold known devices).
    this.refresh();
    this.#o.onInterfaceStatus?.(this.interfaceStatus());
    this.#changed();
  }

  /** A one-shot mDNS question for name.local's IPv4 address, on every interface. */
  #resolveLocalName(hostname: string, signal?: AbortSignal): Promise<string> {
    const known = this.#registry
      .list()
      .find((d) => d.hostnames.includes(hostname) && d.addresses[0]);
    if (known?.addresses[0]) return Promise.resolve(known.addresses[0]);
    return new Promise<string>((resolve, reject) => {
      const temporary: InterfaceBrowser[] = [];
      const unsubscribe: (() => void)[] = [];
      const finish = (error: HearthError | undefined, address?: string) => {
        this.#pending.delete(cancel);
        this.#o.timers.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        for (const off of unsubscribe) off();
        for (const browser of temporary) browser.stop();
        if (error) reject(error);
        else resolve(address ?? '');
      };
      const cancel = () => finish(new HearthError('CANCELLED'));
      const onAbort = cancel;
      if (signal?.aborted) return reject(new HearthError('CANCELLED'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.add(cancel);
      const timer = this.#o.timers.setTimeout(
        () => finish(new HearthError('DEVICE_UNREACHABLE')),
        this.#o.localNameTimeoutMs,
      );
      let browsers = [...this.#browsers.values()];
      if (browsers.length === 0) {
        browsers = this.#currentInterfaces().map((iface) => {
          const browser = new InterfaceBrowser({
            iface,
            transport: this.#o.mdnsTransport,
            clock: this.#o.clock,
            timers: this.#o.timers,
            onChange: () => undefined,
            onStatus: () => undefined,
          });
          temporary.push(browser);
          return browser;
        });
      }
      const onPacket = (packet: PacketLike, iface: LanInterface) => {
        const records = [
          ...(Array.isArray(packet.answers) ? (packet.answers as unknown[]) : []),
          ...(Array.isArray(packet.additionals) ? (packet.additionals as unknown[]) : []),
        ];
        for (const record of records) {
          const r = record as { type?: unknown; name?: unknown; data?: unknown; ttl?: unknown };
          if (
            r.type === 'A' &&
            typeof r.name === 'string' &&
            normalizeHostname(r.name) === hostname &&
            isDeviceAddress(iface, r.data) &&
            typeof r.ttl === 'number' &&
            r.ttl > 0
          ) {
            return finish(undefined, r.data);
          }
        }
      };
      for (const browser of browsers) {
        if (temporary.includes(browser)) browser.start();
        unsubscribe.push(
          browser.ask([{ name: hostname, type: 'A' }], (p) => onPacket(p, browser.iface)),
        );
      }
    });
  }

  #changed(): void {
    if (this.#publishTimer !== undefined) return;
    const now = this.#o.clock.now();
    const delay = Math.max(0, this.#lastPublished + this.#o.publishIntervalMs - now);
    this.#publishTimer = this.#o.timers.setTimeout(() => {
      this.#publishTimer = undefined;
      this.#lastPublished = this.#o.clock.now();
      const devices = this.#registry.list();
      const snapshot = JSON.stringify(devices);
      if (snapshot === this.#lastSnapshot) return;
      this.#lastSnapshot = snapshot;
      try {
        this.#o.publish(devices);
      } catch {
        // A subscriber's failure must not stop discovery.
      }
    }, delay);
  }
}
