import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerAppIpc(handle: Handle, services: AppServices): void {
  handle('app:info', () => services.info);
  handle('app:restartToUpdate', () => services.restartToUpdate());
}
