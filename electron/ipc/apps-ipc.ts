import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerAppsIpc(handle: Handle, services: AppServices): void {
  handle('catalog:list', () => services.catalogApps());
  handle('catalog:add', ({ url }) => services.addCatalog(url));
  handle('apps:list', () => services.appMonitor.list());
  handle('apps:install', async ({ deviceId, appId }) => ({
    taskId: await services.appInstaller.install(deviceId, appId),
  }));
  handle('apps:start', ({ deviceId, appId }) =>
    services.appControl.control(deviceId, appId, 'start'),
  );
  handle('apps:stop', ({ deviceId, appId }) =>
    services.appControl.control(deviceId, appId, 'stop'),
  );
  handle('apps:restart', ({ deviceId, appId }) =>
    services.appControl.control(deviceId, appId, 'restart'),
  );
  handle('apps:remove', ({ deviceId, appId, confirmDeleteData }) =>
    services.appControl.remove(deviceId, appId, confirmDeleteData),
  );
  handle('apps:setMemory', ({ deviceId, appId, memoryMiB }) =>
    services.appControl.setMemory(deviceId, appId, memoryMiB),
  );
  handle('apps:setSleep', ({ deviceId, appId, idleMinutes }) =>
    services.appControl.setSleep(deviceId, appId, idleMinutes),
  );
  handle('apps:console', ({ deviceId, appId }) => services.appControl.console(deviceId, appId));
  handle('apps:chooseImage', () => services.fileInstaller.chooseImage());
  handle('apps:installFromFile', (request) => services.fileInstaller.install(request));
}
