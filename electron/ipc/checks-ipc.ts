import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerChecksIpc(handle: Handle, services: AppServices): void {
  handle('checks:run', () => ({ taskId: services.runComputerCheck() }));
}
