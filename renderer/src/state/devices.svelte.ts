// The devices Hearth has prepared: one list from devices:list, then kept fresh by
// devices:changed events (a finished setup or a rename anywhere updates it).
import type { DeviceRecord } from '../../../shared/model';
import { LiveState } from './live-state.svelte';

export class DevicesState extends LiveState {
  list = $state.raw<readonly DeviceRecord[]>([]);
  /** Whether devices:list has answered (the empty state waits for it). */
  loaded = $state(false);

  async start(): Promise<void> {
    this.listen(() =>
      this.api.on('devices:changed', (devices) => {
        this.list = devices;
        this.loaded = true;
      }),
    );
    await this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      this.list = await this.api.devices.list();
    } catch (error) {
      this.notices.report(error);
    } finally {
      this.loaded = true;
    }
  }

  /** The device Hearth knows by this host key, if any. */
  byFingerprint(fingerprint: string): DeviceRecord | undefined {
    return this.list.find((device) => device.hostKeyFingerprint === fingerprint);
  }

  /** Forgets a device on this computer; returns whether it worked (owner told why not). */
  async forget(id: string): Promise<boolean> {
    try {
      await this.api.devices.forget({ id });
      this.list = this.list.filter((device) => device.id !== id);
      return true;
    } catch (error) {
      this.notices.report(error);
      return false;
    }
  }

  /** Renames a device; returns the updated record, or null (owner told why). */
  async rename(id: string, name: string): Promise<DeviceRecord | null> {
    try {
      const renamed = await this.api.devices.rename({ id, name });
      this.list = this.list.map((device) => (device.id === id ? renamed : device));
      return renamed;
    } catch (error) {
      this.notices.report(error);
      return null;
    }
  }
}
