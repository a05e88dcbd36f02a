import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerTasksIpc(handle: Handle, services: AppServices): void {
  handle('tasks:list', () => services.tasks.list());
  handle('tasks:cancel', ({ id }) => ({ cancelled: services.tasks.cancel(id) }));
  handle('tasks:clearFinished', () => services.tasks.clearFinished());
}
