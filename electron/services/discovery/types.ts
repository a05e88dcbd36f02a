// The shapes discovery hands to the rest of Hearth. DiscoveredDevice is what the UI lists:
// one entry per device identity (Hearth id, SSH host key, or provisionally its hostname).

import type { DiscoveredDevice } from '../../../shared/model';

export type { DiscoveredDevice };
export type DiscoveredServiceKind = DiscoveredDevice['services'][number];
export type DiscoverySource = DiscoveredDevice['source'];

/** How one of this computer's interfaces is doing for discovery. */
export interface InterfaceStatus {
  name: string;
  address: string;
  state: 'starting' | 'listening' | 'failed';
  /** Why it failed, for logs and a details view (not shown as the main sentence). */
  error?: string;
}

/** A service instance heard over mDNS on one interface (already sanitised and bounded). */
export interface MdnsServiceSighting {
  /** The instance's full name, e.g. `raspberrypi._ssh._tcp.local`, lower-cased. */
  fqdn: string;
  kind: DiscoveredServiceKind;
  /** The instance name ("raspberrypi", "Living-room Pi"). */
  instance: string;
  host: string;
  port: number;
  addresses: string[];
  txt: Record<string, string>;
  interfaceName: string;
  lastSeen: number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};
