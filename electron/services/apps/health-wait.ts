// Waits until a just-started app is ready on this boot, or says why it will not be.
import { HearthError } from '../../../shared/errors';
import type { DeviceRecord } from '../../../shared/model';
import type { Clock, Sleep } from '../clock';
import type { DeviceClient } from '../device/device-client';
import type { AppSpec } from './app-spec';
import { interpret } from './app-state';
import type { Probe } from './health-probe';
import { guestAddressOf } from './health-probe';

export interface HealthWaitDeps {
  clock: Clock;
  sleep: Sleep;
  probe: Probe;
}

const POLL_MS = 500;

/**
 * True once the probe passes; false at the deadline, or at once when the unit failed under KVM
 * (the installer then tries emulation). A unit that failed otherwise keeps failing: that is
 * APP_KEEPS_STOPPING with systemd's story in the owner's words.
 */
export async function waitHealthy(
  deps: HealthWaitDeps,
  client: DeviceClient,
  device: DeviceRecord,
  spec: AppSpec,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const until = deps.clock.now() + timeoutMs;
  while (deps.clock.now() < until) {
    if (signal.aborted) throw new HearthError('CANCELLED');
    const guest = await guestAddressOf(client, spec).catch(() => null);
    if (await deps.probe(client, device, spec, guest)) return true;
    const unit = await client.unitStatus(spec.appId);
    if (unit?.activeState === 'failed') {
      if (spec.accel === 'kvm') return false;
      throw new HearthError(
        'APP_KEEPS_STOPPING',
        interpret(unit, spec.name, null).message ?? `${spec.name} stopped.`,
      );
    }
    await deps.sleep(POLL_MS, signal);
  }
  return false;
}
