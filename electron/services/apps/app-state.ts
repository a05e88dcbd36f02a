// systemd's view of an app plus its health probe, in the owner's words.
import type { AppState } from '../../../shared/model';
import type { RawAppStatus } from '../device/app-status-report';

export interface InterpretedState {
  state: AppState;
  message: string | null;
}

/** systemd's view plus the health probe, in the owner's words. */
export function interpret(
  status: RawAppStatus,
  name: string,
  probeHealthy: boolean | null,
): InterpretedState {
  const healthy = status.healthy ?? probeHealthy;
  switch (status.activeState) {
    case 'active':
      return { state: healthy === false ? 'starting' : 'running', message: null };
    case 'activating':
      return status.subState === 'auto-restart'
        ? { state: 'restarting', message: `${name} stopped unexpectedly and is being restarted.` }
        : { state: 'starting', message: null };
    case 'deactivating':
      return { state: 'stopping', message: null };
    case 'failed':
      // systemd's burst is 5 starts (the unit template): after 4 automatic restarts a failed
      // unit has given up, whichever Result systemd recorded for the last attempt.
      if (status.result === 'start-limit-hit' || status.restarts >= 4) {
        return {
          state: 'gave-up',
          message: `${name} kept stopping right after it started, so the device stopped trying. Its data is safe. Try starting it again; if it keeps happening, reinstall it or remove it.`,
        };
      }
      return {
        state: 'crashed',
        message: `${name} stopped unexpectedly. Its data is safe; you can start it again.`,
      };
    default:
      return { state: status.sleeping ? 'sleeping' : 'stopped', message: null };
  }
}
