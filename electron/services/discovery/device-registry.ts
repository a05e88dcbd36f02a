// One entry per device identity, never per address or name. Sightings (mDNS services per
// interface, addresses found by hand or by a scan) are grouped into devices by what
// proves identity: the SSH host key seen at their addresses, then (provisionally) the
// Hearth id, the host name and a shared current address. A Hearth id or a name is only a
// claim anyone on the LAN can announce: it never lends a sighting a key, and any link
// joins two sightings only when both are equally proven (so a sighting naming an address
// whose key nobody checked never adds that address to a device whose key is known). Two
// sightings with different Hearth ids or host keys are never merged. Pure: derive()
// recomputes from the sightings.
import { describeDevice } from './describe-device';
import { isIPv4, normalizeHostname, sanitizeLabel } from './sanitize';
import { ipToInt } from './interfaces';
import type {
  DiscoveredDevice,
  DiscoveredServiceKind,
  DiscoverySource,
  MdnsServiceSighting,
} from './types';

export interface AddressSighting {
  address: string;
  port: number;
  banner?: string;
  /** The name the owner typed, when it was a name.local. */
  hostname?: string;
  source: Exclude<DiscoverySource, 'mdns'>;
  interfaceName?: string;
  lastSeen: number;
}

export interface RegistryLimits {
  maxDevices: number;
  maxAddressSightings: number;
  maxSightingsPerBrowser: number;
  maxRemembered: number;
}

export const defaultRegistryLimits: RegistryLimits = {
  maxDevices: 256,
  maxAddressSightings: 1024,
  maxSightingsPerBrowser: 1024,
  maxRemembered: 2048,
};

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const HEARTH_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const serviceOrder: DiscoveredServiceKind[] = ['hearth', 'ssh', 'sftp-ssh', 'workstation'];

export function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && FINGERPRINT.test(value);
}

interface Node {
  id: string;
  hostname?: string;
  addresses: string[];
  hearthId?: string;
  fingerprint?: string;
  mdns?: MdnsServiceSighting;
  address?: AddressSighting;
  interfaceName?: string;
  lastSeen: number;
}

/** A bounded map that forgets its oldest entries. */
class Remembered<V> extends Map<string, V> {
  constructor(private readonly limit: number) {
    super();
  }
  override set(key: string, value: V): this {
    super.delete(key);
    super.set(key, value);
    while (this.size > this.limit) {
      const first = this.keys().next().value;
      if (first === undefined) break;
      super.delete(first);
    }
    return this;
  }
}

export class DeviceRegistry {
  readonly #limits: RegistryLimits;
  readonly #mdns = new Map<string, MdnsServiceSighting[]>();
  readonly #byAddress = new Remembered<AddressSighting>(defaultRegistryLimits.maxAddressSightings);
  /** What the SSH layer saw at an address: the only source of a sighting's key. */
  readonly #fpByAddress: Remembered<string>;
  readonly #aliases: Remembered<string>;
  readonly #nodeKeys: Remembered<string>;
  #interfaceOf: (address: string) => string | undefined = () => undefined;
  #devices: DiscoveredDevice[] | undefined;

  constructor(limits: Partial<RegistryLimits> = {}) {
    this.#limits = { ...defaultRegistryLimits, ...limits };
    this.#byAddress = new Remembered(this.#limits.maxAddressSightings);
    this.#fpByAddress = new Remembered(this.#limits.maxRemembered);
    this.#aliases = new Remembered(this.#limits.maxRemembered);
    this.#nodeKeys = new Remembered(this.#limits.maxRemembered * 2);
  }

  /** Which of this computer's interfaces reaches an address (for `interfaces[]`). */
  setInterfaceResolver(resolve: (address: string) => string | undefined): void {
    this.#interfaceOf = resolve;
    this.#devices = undefined;
  }

  /** Replaces everything one mDNS browser (one interface) currently sees. */
  setMdnsSightings(browserId: string, sightings: readonly MdnsServiceSighting[]): void {
    if (sightings.length === 0) this.#mdns.delete(browserId);
    else this.#mdns.set(browserId, sightings.slice(0, this.#limits.maxSightingsPerBrowser));
    this.#devices = undefined;
  }

  removeBrowser(browserId: string): void {
    this.#mdns.delete(browserId);
    this.#devices = undefined;
  }

  addAddressSighting(sighting: AddressSighting): void {
    if (!isIPv4(sighting.address)) return;
    const previous = this.#byAddress.get(sighting.address);
    const source = previous?.source === 'manual' ? 'manual' : sighting.source;
    this.#byAddress.set(sighting.address, {
      ...previous,
      ...sighting,
      hostname: normalizeHostname(sighting.hostname) ?? previous?.hostname,
      banner: sighting.banner ? sanitizeLabel(sighting.banner, 255) : previous?.banner,
      source,
    });
    this.#devices = undefined;
  }

  /** The current key for a key the UI may hold from before a merge. */
  resolveKey(key: string): string | undefined {
    const devices = this.list();
    let current = key;
    for (let hops = 0; hops < 16; hops++) {
      if (devices.some((d) => d.key === current)) return current;
      const next = this.#aliases.get(current);
      if (next === undefined || next === current) return undefined;
      current = next;
    }
    return undefined;
  }

  get(key: string): DiscoveredDevice | undefined {
    const current = this.resolveKey(key);
    return this.list().find((d) => d.key === current);
  }

  /**
   * The SSH layer saw this key at this address (and only there: a device listed with several
   * addresses may be several devices announcing one name). Returns the key of the device at
   * that address afterwards (it changes from `host:` to `ssh:` or stays `hearth:`).
   */
  learnHostKey(address: string, fingerprint: string): string | undefined {
    if (!isFingerprint(fingerprint) || !isIPv4(address)) return undefined;
    this.#fpByAddress.set(address, fingerprint);
    this.#devices = undefined;
    return this.list().find((d) => d.addresses.includes(address))?.key;
  }

  /** What the LAN announces for an address: the Hearth ids and host names claimed there. */
  claimsAt(address: string): { hearthIds: string[]; hostnames: string[] } {
    const name = normalizeHostname(address);
    const here = this.#nodes().filter(
      (n) => n.addresses.includes(address) || (name !== undefined && n.hostname === name),
    );
    return {
      hearthIds: unique(here.map((n) => n.hearthId)),
      hostnames: unique(here.map((n) => n.hostname)),
    };
  }

  list(): DiscoveredDevice[] {
    this.#devices ??= this.#derive();
    return this.#devices;
  }

  #nodes(): Node[] {
    const nodes: Node[] = [];
    for (const [browserId, sightings] of this.#mdns) {
      for (const s of sightings) {
        const hearthId =
          s.kind === 'hearth' && HEARTH_ID.test(s.txt.id ?? '') ? s.txt.id : undefined;
        nodes.push({
          id: `mdns|${browserId}|${s.fqdn}`,
          hostname: s.host,
          addresses: s.addresses.filter(isIPv4),
          hearthId,
          mdns: s,
          interfaceName: s.interfaceName,
          lastSeen: s.lastSeen,
        });
      }
    }
    for (const s of this.#byAddress.values()) {
      nodes.push({
        id: `address|${s.address}`,
        hostname: s.hostname,
        addresses: [s.address],
        address: s,
        interfaceName: s.interfaceName,
        lastSeen: s.lastSeen,
      });
    }
    for (const node of nodes) {
      // Proven only when every address it names showed the same key: an unchecked address
      // (an impersonator's, announced under the same name) leaves it unproven.
      const seen = new Set(node.addresses.map((a) => this.#fpByAddress.get(a)));
      const [only] = seen;
      node.fingerprint = seen.size === 1 ? only : undefined;
    }
    return nodes;
  }

  #derive(): DiscoveredDevice[] {
    const nodes = this.#nodes();
    const parent = nodes.map((_, i) => i);
    const hearthIds = nodes.map((n) => n.hearthId);
    const fps = nodes.map((n) => n.fingerprint);
    const find = (i: number): number => {
      while (parent[i] !== i) {
        const p = parent[i] ?? i;
        parent[i] = parent[p] ?? p;
        i = p;
      }
      return i;
    };
    const union = (a: number, b: number) => {
      const ra = find(a);
      const rb = find(b);
      if (ra === rb) return;
      const ha = hearthIds[ra];
      const hb = hearthIds[rb];
      const fa = fps[ra];
      const fb = fps[rb];
      if (ha && hb && ha !== hb) return;
      // Only the equally proven join: never unchecked to checked, whether the link is a claim
      // (Hearth id, name) or an address an impostor also announces for itself.
      if (fa !== fb) return;
      parent[rb] = ra;
      hearthIds[ra] = ha ?? hb;
      fps[ra] = fa ?? fb;
    };
    const linkBy = (attribute: (n: Node) => readonly (string | undefined)[]) => {
      const first = new Map<string, number>();
      nodes.forEach((node, i) => {
        for (const value of attribute(node)) {
          if (!value) continue;
          const j = first.get(value);
          if (j === undefined) first.set(value, i);
          else union(j, i);
        }
      });
    };
    linkBy((n) => [n.fingerprint]);
    linkBy((n) => [n.hearthId]);
    linkBy((n) => [n.hostname]);
    linkBy((n) => n.addresses);

    const groups = new Map<number, Node[]>();
    nodes.forEach((node, i) => {
      const root = find(i);
      const group = groups.get(root) ?? [];
      group.push(node);
      groups.set(root, group);
    });
    const built = [...groups].map(([root, group]) => ({
      group,
      device: this.#build(group, hearthIds[root], fps[root]),
    }));
    const devices = built.map((b) => b.device);
    disambiguateKeys(devices);
    for (const { group, device } of built) {
      for (const node of group) {
        const before = this.#nodeKeys.get(node.id);
        if (before !== undefined && before !== device.key) this.#aliases.set(before, device.key);
        this.#nodeKeys.set(node.id, device.key);
      }
    }
    devices.sort((a, b) => b.lastSeen - a.lastSeen || a.key.localeCompare(b.key));
    return devices
      .slice(0, this.#limits.maxDevices)
      .sort((a, b) => a.name.localeCompare(b.name) || a.key.localeCompare(b.key));
  }

  #build(
    group: Node[],
    hearthId: string | undefined,
    fingerprint: string | undefined,
  ): DiscoveredDevice {
    const hostnames = unique(group.map((n) => n.hostname)).sort(
      (a, b) => a.length - b.length || a.localeCompare(b),
    );
    const addresses = unique(group.flatMap((n) => n.addresses)).sort(
      (a, b) => ipToInt(a) - ipToInt(b),
    );
    const interfaces = unique([
      ...group.map((n) => n.interfaceName),
      ...addresses.map((a) => this.#interfaceOf(a)),
    ]).sort();
    const mdns = group.flatMap((n) => (n.mdns ? [n.mdns] : []));
    const byAddress = group.flatMap((n) => (n.address ? [n.address] : []));
    const services = serviceOrder.filter(
      (kind) =>
        mdns.some((s) => s.kind === kind) ||
        (kind === 'ssh' && byAddress.some((s) => s.banner !== undefined)),
    );
    const latest = <T extends { lastSeen: number }>(list: T[]) =>
      [...list].sort((a, b) => b.lastSeen - a.lastSeen)[0];
    const hearth = latest(mdns.filter((s) => s.kind === 'hearth' && s.txt.id === hearthId));
    const ssh =
      latest(mdns.filter((s) => s.kind === 'ssh')) ??
      latest(mdns.filter((s) => s.kind === 'sftp-ssh'));
    const workstation = latest(mdns.filter((s) => s.kind === 'workstation'));
    const probed = latest(byAddress.filter((s) => s.banner !== undefined)) ?? latest(byAddress);
    const sshPort = ssh?.port ?? probed?.port;
    const kind = hearthId ? 'hearth' : 'candidate';
    const name =
      sanitizeLabel(hearth?.instance, 63) ||
      sanitizeLabel(workstation?.instance.replace(/\s*\[[0-9a-f:]{17}\]$/i, ''), 63) ||
      sanitizeLabel(ssh?.instance, 63) ||
      (hostnames[0] ? hostnames[0].replace(/\.local$/, '') : '') ||
      addresses[0] ||
      'Unknown device';
    const key = hearthId
      ? `hearth:${hearthId}`
      : fingerprint
        ? `ssh:${fingerprint}`
        : hostnames[0]
          ? `host:${hostnames[0]}`
          : `address:${addresses[0] ?? group[0]?.id ?? 'unknown'}`;
    const source: DiscoverySource = mdns.length
      ? 'mdns'
      : byAddress.some((s) => s.source === 'manual')
        ? 'manual'
        : 'scan';
    const sshBanner = probed?.banner;
    const device: DiscoveredDevice = {
      key,
      name,
      hostnames,
      addresses,
      interfaces,
      services,
      kind,
      description: describeDevice({
        kind,
        hostnames,
        sshBanner,
        hasSsh: services.includes('ssh') || services.includes('sftp-ssh'),
      }),
      source,
      lastSeen: Math.max(...group.map((n) => n.lastSeen)),
    };
    if (sshPort !== undefined) device.sshPort = sshPort;
    if (hearthId) device.hearthId = hearthId;
    const arch = sanitizeLabel(hearth?.txt.arch, 16);
    if (arch) device.arch = arch;
    const hv = sanitizeLabel(hearth?.txt.hv, 16);
    if (hv) device.hypervisor = hv;
    if (fingerprint) device.hostKeyFingerprint = fingerprint;
    if (sshBanner) device.sshBanner = sshBanner;
    return device;
  }
}

/**
 * Two entries can announce one Hearth id (a device and an impersonator): the one proven by
 * its key, else the earliest listed, keeps `hearth:<id>`; the others are keyed by what they
 * are, so the UI never confuses them.
 */
function disambiguateKeys(devices: DiscoveredDevice[]): void {
  const byKey = new Map<string, DiscoveredDevice[]>();
  for (const d of devices) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  for (const [key, same] of byKey) {
    if (same.length < 2) continue;
    const keeper = same.find((d) => d.hostKeyFingerprint !== undefined) ?? same[0];
    for (const d of same) {
      if (d === keeper) continue;
      d.key = d.hostKeyFingerprint
        ? `${key}|ssh:${d.hostKeyFingerprint}`
        : `${key}|at:${d.addresses[0] ?? d.hostnames[0] ?? 'unknown'}`;
    }
  }
}

function unique(values: readonly (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length > 0))];
}
