import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerBackupsIpc(handle: Handle, services: AppServices): void {
  const b = services.backups;
  handle('backups:setup', () => b.setup());
  handle('backups:chooseFolder', () => b.chooseFolder());
  handle('backups:createRepository', ({ path }) => b.createRepository(path));
  handle('backups:openRepository', ({ path, password }) => b.openRepository(path, password));
  handle('backups:recoveryKit', () => b.recoveryKit());
  handle('backups:saveKit', () => b.saveKit());
  handle('backups:confirmKit', () => b.confirmKit());
  handle('backups:list', () => b.list());
  handle('backups:points', ({ deviceId, appId }) => b.points(deviceId, appId));
  handle('backups:allPoints', () => b.allPoints());
  handle('backups:run', async ({ deviceId, appId }) => ({ taskId: await b.run(deviceId, appId) }));
  handle('backups:restore', async (request) => ({ taskId: await b.restore(request) }));
  handle('backups:drill', async ({ deviceId, appId }) => ({
    taskId: await b.drill(deviceId, appId),
  }));
  handle('backups:setSchedule', ({ deviceId, appId, schedule }) =>
    b.setSchedule(deviceId, appId, schedule),
  );
  handle('backups:setDestination', ({ deviceId, appId, destination }) =>
    b.setDestination(deviceId, appId, destination),
  );
}
