// Which of Start / Stop / Restart an app's state allows: the same rule for the card's
// buttons in the window and the tray's menu items.
import type { AppState } from './model';

export const canStart = (state: AppState): boolean =>
  state === 'stopped' || state === 'crashed' || state === 'gave-up';
export const canStop = (state: AppState): boolean =>
  state === 'running' || state === 'starting' || state === 'restarting';
/**
 * Restart needs the device and an app that is not busy being installed or stopped. A sleeping
 * app is started by a visit only: started by hand, nothing would keep it awake.
 */
export const canRestart = (state: AppState): boolean =>
  state !== 'installing' && state !== 'offline' && state !== 'stopping' && state !== 'sleeping';
