// The devices Hearth has prepared, kept on the laptop. Identified by Hearth id and host
// key, never by address: a device that moved to another address is the same device.
import { z } from 'zod';
import { HearthError } from '../../../shared/errors';
import type { DeviceRecord } from '../../../shared/model';
import { fingerprintSchema } from '../../../shared/schemas';
import { DEVICE_CONTRACT } from '../provisioning/device-contract';
import type { AtomicJsonStore } from '../store/atomic-json-store';

const capabilitiesSchema = z.object({
  arch: z.enum(['x86_64', 'aarch64', 'armv7', 'armv6', 'other']),
  rawArch: z.string(),
  os: z.object({
    id: z.string(),
    name: z.string(),
    version: z.string(),
    debianFamily: z.boolean(),
  }),
  xenDom0: z.boolean(),
  kvmDevice: z.boolean(),
  qemu: z.boolean(),
  solo5Hvt: z.boolean(),
  // Recorded since Hearth ran spt unikernels; a device prepared before has none.
  solo5Spt: z.boolean().default(false),
  restic: z.boolean(),
  avahi: z.boolean(),
  systemd: z.boolean(),
  memoryBytes: z.number().nullable(),
  freeDiskBytes: z.number().nullable(),
});

export const deviceRecordSchema = z.object({
  id: z.uuid(),
  name: z.string().min(1).max(64),
  hostKeyFingerprint: fingerprintSchema,
  addresses: z.array(z.string().max(253)).max(16),
  hostname: z.string().max(64),
  sshPort: z.number().int().min(1).max(65535),
  capabilities: capabilitiesSchema,
  hypervisor: z.enum(['xen', 'kvm', 'qemu']),
  provisionedAt: z.number(),
  preparedWith: z.string().max(64).optional(),
});

const fileSchema = z.object({ devices: z.array(deviceRecordSchema) });

export class DeviceStore {
  readonly #store: AtomicJsonStore;
  readonly #publish: (devices: DeviceRecord[]) => void;
  #devices: Promise<DeviceRecord[]> | null = null;
  #writing: Promise<void> = Promise.resolve();

  readonly #contract: string;

  /** `contract`: this Hearth's (device-contract.ts); a device prepared with another needs preparing. */
  constructor(
    store: AtomicJsonStore,
    publish: (devices: DeviceRecord[]) => void,
    contract = DEVICE_CONTRACT,
  ) {
    this.#store = store;
    this.#publish = publish;
    this.#contract = contract;
  }

  async list(): Promise<DeviceRecord[]> {
    this.#devices ??= this.#store
      .load('devices', fileSchema, () => ({ devices: [] }))
      .then((r) => r.value.devices.map((d) => this.#judged(d)));
    return structuredClone(await this.#devices);
  }

  /** Whether it needs preparing follows from what prepared it; it is never stored. */
  #judged(record: DeviceRecord): DeviceRecord {
    const { needsPreparing: _ignored, ...stored } = record;
    return { ...stored, needsPreparing: stored.preparedWith !== this.#contract };
  }

  async get(id: string): Promise<DeviceRecord> {
    const device = (await this.list()).find((d) => d.id === id);
    if (!device) throw new HearthError('NOT_FOUND', 'Hearth does not know that device any more.');
    return device;
  }

  /** The device Hearth knows by this host key, if any. */
  async byFingerprint(fingerprint: string): Promise<DeviceRecord | undefined> {
    return (await this.list()).find((d) => d.hostKeyFingerprint === fingerprint);
  }

  /** The device Hearth last reached at this address, if any (to spot a changed key). */
  async byAddress(address: string): Promise<DeviceRecord | undefined> {
    const lower = address.toLowerCase();
    return (await this.list()).find(
      (d) => d.addresses.includes(address) || `${d.hostname}.local`.toLowerCase() === lower,
    );
  }

  /**
   * Adds or updates a device; an entry with the same id or host key is the same device.
   * A record's pinned key is never replaced: an id that Hearth knows under another key is
   * refused (a device.json id can be copied by anyone; the key cannot).
   */
  async save(record: DeviceRecord): Promise<void> {
    await this.#write((devices) => {
      const pinned = devices.find(
        (d) => d.id === record.id && d.hostKeyFingerprint !== record.hostKeyFingerprint,
      );
      if (pinned)
        throw new HearthError(
          'DEVICE_ID_TAKEN',
          `This device says it is your ${pinned.name}, but it proves a different identity, so Hearth did not save it. If you set ${pinned.name} up again from scratch, forget it in Devices first.`,
        );
      const others = devices.filter(
        (d) => d.id !== record.id && d.hostKeyFingerprint !== record.hostKeyFingerprint,
      );
      const previous = devices.find((d) => d.id === record.id);
      return [...others, previous ? { ...record, name: previous.name } : record];
    });
  }

  async rename(id: string, name: string): Promise<DeviceRecord> {
    await this.get(id);
    await this.#write((devices) => devices.map((d) => (d.id === id ? { ...d, name } : d)));
    return this.get(id);
  }

  /** Removes the device from this computer only; nothing is sent to it. */
  async forget(id: string): Promise<void> {
    await this.get(id);
    await this.#write((devices) => devices.filter((d) => d.id !== id));
  }

  /** One change at a time: a rename racing a forget must not write the device back. */
  #write(change: (devices: DeviceRecord[]) => DeviceRecord[]): Promise<void> {
    const write = this.#writing.then(async () => {
      const next = change(await this.list())
        .map((d) => this.#judged(d))
        .sort((a, b) => a.provisionedAt - b.provisionedAt);
      await this.#store.save('devices', {
        devices: next.map(({ needsPreparing: _judged, ...stored }) => stored),
      });
      this.#devices = Promise.resolve(next);
      this.#publish(structuredClone(next));
    });
    this.#writing = write.catch(() => undefined);
    return write;
  }
}
