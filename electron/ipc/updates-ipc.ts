import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerUpdatesIpc(handle: Handle, services: AppServices): void {
  const u = services.updates;
  handle('updates:list', () => u.list());
  handle('updates:check', () => u.check());
  handle('updates:setPolicy', ({ deviceId, appId, policy }) =>
    u.setPolicy(deviceId, appId, policy),
  );
  handle('updates:start', ({ deviceId, appId }) => u.start(deviceId, appId));
  handle('updates:goBack', ({ deviceId, appId, data }) => u.goBack(deviceId, appId, data));
}
