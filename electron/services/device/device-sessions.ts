// One SSH connection per device, as the hearth account with the install key, verifying
// the host key Hearth recorded when it prepared the device. Reused while it lives; a
// lost one is reopened on next use (callers back off between attempts).
import { HearthError } from '../../../shared/errors';
import type { DeviceRecord } from '../../../shared/model';
import type { DeviceStore } from '../devices/device-store';
import type { ConnectOptions } from '../ssh/ssh-connect';
import type { SshSession } from '../ssh/ssh-session';
import { DeviceClient } from './device-client';
import { HEARTH_USER } from './layout';

export interface DeviceSessionsDeps {
  devices: Pick<DeviceStore, 'get'>;
  privateKey: () => Promise<string>;
  connect: (options: ConnectOptions) => Promise<SshSession>;
  /** Short: an unreachable device should be shown offline quickly. */
  readyTimeoutMs?: number;
}

export class DeviceSessions {
  readonly #deps: DeviceSessionsDeps;
  readonly #open = new Map<string, Promise<SshSession>>();

  constructor(deps: DeviceSessionsDeps) {
    this.#deps = deps;
  }

  /** The device's operations over its (shared) connection. */
  async client(deviceId: string): Promise<DeviceClient> {
    return new DeviceClient(await this.session(deviceId), deviceId);
  }

  session(deviceId: string): Promise<SshSession> {
    let pending = this.#open.get(deviceId);
    if (!pending) {
      pending = this.#connect(deviceId);
      this.#open.set(deviceId, pending);
      pending.then(
        (session) => void session.closed.then(() => this.#forget(deviceId, pending!)),
        () => this.#forget(deviceId, pending!),
      );
    }
    return pending;
  }

  /** Ends the device's connection, if one is open or opening. */
  close(deviceId: string): void {
    const pending = this.#open.get(deviceId);
    this.#open.delete(deviceId);
    void pending?.then(
      (s) => s.close(),
      () => undefined,
    );
  }

  closeAll(): void {
    for (const pending of this.#open.values())
      void pending.then(
        (s) => s.close(),
        () => undefined,
      );
    this.#open.clear();
  }

  #forget(deviceId: string, pending: Promise<SshSession>): void {
    if (this.#open.get(deviceId) === pending) this.#open.delete(deviceId);
  }

  async #connect(deviceId: string): Promise<SshSession> {
    const device: DeviceRecord = await this.#deps.devices.get(deviceId);
    const privateKey = await this.#deps.privateKey();
    let lastError: Error | null = null;
    // Identity is the host key; addresses are only where it was last seen.
    for (const host of device.addresses) {
      try {
        return await this.#deps.connect({
          host,
          port: device.sshPort,
          username: HEARTH_USER,
          auth: { privateKey },
          hostKey: { kind: 'pinned', fingerprint: device.hostKeyFingerprint },
          readyTimeoutMs: this.#deps.readyTimeoutMs ?? 8_000,
          keepaliveIntervalMs: 5_000,
        });
      } catch (error) {
        lastError = error instanceof Error ? error : new HearthError('DEVICE_UNREACHABLE');
        if ((error as { code?: string }).code === 'HOST_KEY_CHANGED') throw error;
      }
    }
    throw lastError ?? new HearthError('DEVICE_UNREACHABLE');
  }
}
