// The name an "Open" link uses for a device: its mDNS name (living-room-pi.local) when this
// computer resolves that name to the device, which keeps links working after the home router
// hands the device a new address; its address otherwise (a Linux laptop without nss-mdns, a
// device whose avahi is off). The answer is cached, as asking on every refresh would be slow.
import { lookup } from 'node:dns/promises';
import type { DeviceRecord } from '../../../shared/model';

export type Resolve = (name: string) => Promise<string[]>;

const systemResolve: Resolve = async (name) =>
  (await lookup(name, { all: true, family: 4 })).map((a) => a.address);

const REMEMBER_MS = 5 * 60_000;
const LOOKUP_TIMEOUT_MS = 2_000;

export class LinkHosts {
  readonly #resolve: Resolve;
  readonly #now: () => number;
  /** The .local name that was found to work (null: it did not), and until when to trust that. */
  readonly #known = new Map<string, { name: string | null; until: number }>();
  readonly #asking = new Set<string>();

  constructor(resolve: Resolve = systemResolve, now: () => number = Date.now) {
    this.#resolve = resolve;
    this.#now = now;
  }

  /** The host for links now; starts finding a better one in the background when due. */
  hostFor(device: Pick<DeviceRecord, 'id' | 'hostname' | 'addresses'>): string | undefined {
    const address = device.addresses[0];
    const known = this.#known.get(device.id);
    if (!known || known.until < this.#now()) void this.#ask(device);
    // The address is read fresh each time: only the name's answer is remembered.
    return known?.name ?? address;
  }

  async #ask(device: Pick<DeviceRecord, 'id' | 'hostname' | 'addresses'>): Promise<void> {
    const address = device.addresses[0];
    if (!address || this.#asking.has(device.id)) return;
    const name = /^[A-Za-z0-9-]{1,63}$/.test(device.hostname ?? '')
      ? `${device.hostname}.local`
      : null;
    let works = false;
    if (name) {
      this.#asking.add(device.id);
      try {
        const answers = await Promise.race([
          this.#resolve(name),
          new Promise<string[]>((resolve) =>
            setTimeout(() => resolve([]), LOOKUP_TIMEOUT_MS).unref(),
          ),
        ]).catch(() => []);
        // Only a name that leads to this very device: another box may answer to the same name.
        works = answers.some((a) => device.addresses.includes(a));
      } finally {
        this.#asking.delete(device.id);
      }
    }
    this.#known.set(device.id, { name: works ? name : null, until: this.#now() + REMEMBER_MS });
  }
}
