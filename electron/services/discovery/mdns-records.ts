// A small mDNS record cache for the service types Hearth browses (RFC 6762/6763): it
// keeps PTR, SRV, TXT and A records with their TTLs, honours goodbyes (TTL 0) and
// cache-flush, expires what is not refreshed, and turns the live records into service
// sightings. Pure: packets and the time come in, nothing goes out. Everything from the
// network is treated as hostile: types are checked, sizes and counts are bounded.
import type { DiscoveredServiceKind, MdnsServiceSighting } from './types';
import { isIPv4, normalizeHostname, sanitizeLabel } from './sanitize';

export const browsedTypes: Record<string, DiscoveredServiceKind> = {
  '_hearth._tcp.local': 'hearth',
  '_ssh._tcp.local': 'ssh',
  '_sftp-ssh._tcp.local': 'sftp-ssh',
  '_workstation._tcp.local': 'workstation',
};

/** The parts of a decoded DNS packet the cache reads (dns-packet's shape, untrusted). */
export interface PacketLike {
  answers?: unknown;
  additionals?: unknown;
}

export interface MdnsCacheLimits {
  maxRecords: number;
  maxTxtKeys: number;
  maxTxtValue: number;
  /** Longest TTL believed, in seconds: a record cannot pin itself forever. */
  maxTtlSeconds: number;
}

export const defaultCacheLimits: MdnsCacheLimits = {
  maxRecords: 2048,
  maxTxtKeys: 16,
  maxTxtValue: 128,
  maxTtlSeconds: 75 * 60,
};

type CachedRecord =
  | { type: 'PTR'; name: string; data: string; display: string; expiresAt: number; seenAt: number }
  | { type: 'SRV'; name: string; target: string; port: number; expiresAt: number; seenAt: number }
  | { type: 'TXT'; name: string; txt: Record<string, string>; expiresAt: number; seenAt: number }
  | { type: 'A'; name: string; address: string; expiresAt: number; seenAt: number };

interface RawRecord {
  type?: unknown;
  name?: unknown;
  ttl?: unknown;
  data?: unknown;
  flush?: unknown;
}

function recordKey(r: CachedRecord): string {
  switch (r.type) {
    case 'PTR':
      return `PTR|${r.name}|${r.data}`;
    case 'SRV':
      return `SRV|${r.name}`;
    case 'TXT':
      return `TXT|${r.name}`;
    case 'A':
      return `A|${r.name}|${r.address}`;
  }
}

function lowerName(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) return undefined;
  return value.replace(/\.$/, '').toLowerCase();
}

export class MdnsRecordCache {
  readonly #records = new Map<string, CachedRecord>();
  readonly #limits: MdnsCacheLimits;
  readonly #acceptAddress: (address: string) => boolean;

  /** `acceptAddress` says which A records may name a device here (the browser's own link). */
  constructor(
    limits: Partial<MdnsCacheLimits> = {},
    acceptAddress: (address: string) => boolean = () => true,
  ) {
    this.#limits = { ...defaultCacheLimits, ...limits };
    this.#acceptAddress = acceptAddress;
  }

  get size(): number {
    return this.#records.size;
  }

  /** Takes in one decoded response. Returns true if anything a sighting depends on changed. */
  ingest(packet: PacketLike, now: number): boolean {
    const records: unknown[] = [];
    if (Array.isArray(packet.answers)) records.push(...(packet.answers as unknown[]));
    if (Array.isArray(packet.additionals)) records.push(...(packet.additionals as unknown[]));
    let changed = false;
    // Cache-flush (RFC 6762 10.2): the sender's unique records replace what we had, once
    // per name and type per packet.
    const flushed = new Set<string>();
    for (const raw of records.slice(0, 512)) {
      if (typeof raw !== 'object' || raw === null) continue;
      if (this.#ingestOne(raw, now, flushed)) changed = true;
    }
    if (this.#enforceLimit()) changed = true;
    return changed;
  }

  #ingestOne(raw: RawRecord, now: number, flushed: Set<string>): boolean {
    const name = lowerName(raw.name);
    if (!name) return false;
    const ttl = typeof raw.ttl === 'number' && Number.isFinite(raw.ttl) ? raw.ttl : -1;
    if (ttl < 0) return false;
    const expiresAt = now + Math.min(ttl, this.#limits.maxTtlSeconds) * 1000;
    let record: CachedRecord | undefined;
    switch (raw.type) {
      case 'PTR': {
        const data = lowerName(raw.data);
        if (!data || !(name in browsedTypes) || !data.endsWith(`.${name}`)) return false;
        // Instance names keep their case for display ("Living-room Pi"); matching ignores it.
        const display = String(raw.data).replace(/\.$/, '');
        record = { type: 'PTR', name, data, display, expiresAt, seenAt: now };
        break;
      }
      case 'SRV': {
        const data = raw.data as { target?: unknown; port?: unknown } | null;
        if (typeof data !== 'object' || data === null) return false;
        const target = normalizeHostname(data.target);
        const port = data.port;
        if (
          !target ||
          typeof port !== 'number' ||
          !Number.isInteger(port) ||
          port < 1 ||
          port > 65535
        )
          return false;
        record = { type: 'SRV', name, target, port, expiresAt, seenAt: now };
        break;
      }
      case 'TXT': {
        record = { type: 'TXT', name, txt: this.#decodeTxt(raw.data), expiresAt, seenAt: now };
        break;
      }
      case 'A': {
        if (!isIPv4(raw.data) || !this.#acceptAddress(raw.data)) return false;
        record = { type: 'A', name, address: raw.data, expiresAt, seenAt: now };
        break;
      }
      default:
        return false;
    }
    let changed = false;
    if (
      raw.flush === true &&
      (record.type === 'A' || record.type === 'SRV' || record.type === 'TXT')
    ) {
      const flushKey = `${record.type}|${name}`;
      if (!flushed.has(flushKey)) {
        flushed.add(flushKey);
        for (const [key, existing] of this.#records) {
          // RFC 6762: records received within the last second are kept.
          if (
            existing.type === record.type &&
            existing.name === name &&
            existing.seenAt < now - 1000
          ) {
            this.#records.delete(key);
            changed = true;
          }
        }
      }
    }
    const key = recordKey(record);
    const previous = this.#records.get(key);
    if (ttl === 0) {
      // A goodbye: the record is gone now.
      if (previous) this.#records.delete(key);
      return changed || previous !== undefined;
    }
    this.#records.delete(key); // re-insert so Map order is "least recently heard first"
    this.#records.set(key, record);
    return changed || previous === undefined || !sameContent(previous, record);
  }

  #decodeTxt(data: unknown): Record<string, string> {
    const parts = Array.isArray(data) ? data : [data];
    const txt: Record<string, string> = {};
    let keys = 0;
    for (const part of parts.slice(0, 256)) {
      const text = Buffer.isBuffer(part)
        ? part.toString('utf8')
        : typeof part === 'string'
          ? part
          : '';
      if (!text) continue;
      const eq = text.indexOf('=');
      const key = (eq === -1 ? text : text.slice(0, eq)).toLowerCase();
      if (!/^[a-z0-9_.-]{1,32}$/.test(key) || Object.hasOwn(txt, key)) continue;
      txt[key] = eq === -1 ? '' : sanitizeLabel(text.slice(eq + 1), this.#limits.maxTxtValue);
      if (++keys >= this.#limits.maxTxtKeys) break;
    }
    return txt;
  }

  #enforceLimit(): boolean {
    let dropped = false;
    while (this.#records.size > this.#limits.maxRecords) {
      const oldest = this.#records.keys().next().value;
      if (oldest === undefined) break;
      this.#records.delete(oldest);
      dropped = true;
    }
    return dropped;
  }

  /** Drops records whose TTL has run out. Returns true if any did. */
  expire(now: number): boolean {
    let changed = false;
    for (const [key, record] of this.#records) {
      if (record.expiresAt <= now) {
        this.#records.delete(key);
        changed = true;
      }
    }
    return changed;
  }

  /** The earliest time a record runs out, for scheduling. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const record of this.#records.values())
      if (next === undefined || record.expiresAt < next) next = record.expiresAt;
    return next;
  }

  clear(): void {
    this.#records.clear();
  }

  /** The complete services the live records describe (an instance needs its PTR and SRV). */
  services(interfaceName: string): MdnsServiceSighting[] {
    const srv = new Map<string, Extract<CachedRecord, { type: 'SRV' }>>();
    const txt = new Map<string, Record<string, string>>();
    const addresses = new Map<string, string[]>();
    const ptrs: Extract<CachedRecord, { type: 'PTR' }>[] = [];
    for (const r of this.#records.values()) {
      if (r.type === 'PTR') ptrs.push(r);
      else if (r.type === 'SRV') srv.set(r.name, r);
      else if (r.type === 'TXT') txt.set(r.name, r.txt);
      else {
        const list = addresses.get(r.name) ?? [];
        if (list.length < 8) list.push(r.address);
        addresses.set(r.name, list);
      }
    }
    const result: MdnsServiceSighting[] = [];
    for (const ptr of ptrs) {
      const service = srv.get(ptr.data);
      const kind = browsedTypes[ptr.name];
      if (!service || !kind) continue;
      result.push({
        fqdn: ptr.data,
        kind,
        instance: sanitizeLabel(ptr.display.slice(0, ptr.display.length - ptr.name.length - 1), 63),
        host: service.target,
        port: service.port,
        addresses: [...(addresses.get(service.target) ?? [])].sort(),
        txt: txt.get(ptr.data) ?? {},
        interfaceName,
        lastSeen: Math.max(ptr.seenAt, service.seenAt),
      });
    }
    return result;
  }

  /** Names to ask about: instances whose SRV/TXT is missing, hosts whose address is. */
  missing(): { instances: string[]; hosts: string[] } {
    const have = new Set<string>();
    for (const r of this.#records.values()) have.add(`${r.type}|${r.name}`);
    const instances = new Set<string>();
    const hosts = new Set<string>();
    for (const r of this.#records.values()) {
      if (r.type === 'PTR' && !have.has(`SRV|${r.data}`)) instances.add(r.data);
      if (r.type === 'SRV' && !have.has(`A|${r.target}`)) hosts.add(r.target);
    }
    return { instances: [...instances].slice(0, 32), hosts: [...hosts].slice(0, 32) };
  }
}

function sameContent(a: CachedRecord, b: CachedRecord): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'SRV' && b.type === 'SRV') return a.target === b.target && a.port === b.port;
  if (a.type === 'TXT' && b.type === 'TXT') return JSON.stringify(a.txt) === JSON.stringify(b.txt);
  return true;
}
