// Whether an app can sleep when idle (device/sleep-units.ts), asked before anything is written.
import { HearthError } from '../../../shared/errors';
import { isSolo5Runtime, isTarget, runtimeOf } from '../../../shared/runtimes';
import { SleepRefused, sleepFile } from '../device/sleep-units';
import type { AppSpec } from './app-spec';

/** Refuses, in the owner's words, an app that cannot sleep (no TCP port, no network, Xen). */
export function canSleep(spec: AppSpec): void {
  const runtime = isTarget(spec.target) ? runtimeOf(spec.target) : null;
  // A Xen guest has an address of its own on the network: no socket on dom0 holds its port.
  if (runtime === null || runtime === 'xen')
    throw new HearthError(
      'APP_UNSUITABLE',
      `${spec.name} cannot sleep when idle: it runs as a Xen guest, which visitors reach at its own address.`,
    );
  // A tender's unikernel is reached at its address on the Hearth bridge, which only a network
  // device gives it.
  if (isSolo5Runtime(runtime) && !spec.solo5?.devices.some((d) => d.type === 'NET_BASIC'))
    throw new HearthError(
      'APP_UNSUITABLE',
      `${spec.name} has no network, so no visit could wake it; it keeps running instead.`,
    );
  try {
    sleepFile(spec.name, spec.ports, spec.sleep?.idleSeconds ?? 600);
  } catch (error) {
    if (error instanceof SleepRefused) throw new HearthError('APP_UNSUITABLE', error.message);
    throw error;
  }
}

/** The same question, as a yes or no (a reinstall keeps sleeping only where it still can). */
export function sleepsWhenIdle(spec: AppSpec): boolean {
  try {
    canSleep(spec);
    return true;
  } catch {
    return false;
  }
}
