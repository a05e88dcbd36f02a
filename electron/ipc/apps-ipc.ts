import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerAppsIpc(handle: Handle, services: AppServices): void {
  handle('catalog:list', () => services.catalogApps());
  handle('catalog:add', ({ url }) => services.addCatalog(url));
  handle('apps:list', () => services.apps.list());
  handle('apps:install', async ({ deviceId, appId }) => ({
    taskId: await services.apps.install(deviceId, appId),
  }));
  handle('apps:start', ({ deviceId, appId }) => services.apps.control(deviceId, appId, 'start'));
  handle('apps:stop', ({ deviceId, appId }) => services.apps.control(deviceId, appId, 'stop'));
  handle('apps:restart', ({ deviceId, appId }) =>
    services.apps.control(deviceId, appId, 'restart'),
  );
  handle('apps:remove', ({ deviceId, appId, confirmDeleteData }) =>
    services.apps.remove(deviceId, appId, confirmDeleteData),
  );
  handle('apps:setMemory', ({ deviceId, appId, memoryMiB }) =>
    services.apps.setMemory(deviceId, appId, memoryMiB),
  );
  handle('apps:console', ({ deviceId, appId }) => services.apps.console(deviceId, appId));
  handle('apps:chooseImage', () => services.chooseImage());
  handle('apps:installFromFile', (request) => services.installFromFile(request));
}
