import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerSettingsIpc(handle: Handle, services: AppServices): void {
  handle('settings:get', () => services.settings.get());
  handle('settings:update', (patch) => services.settings.update(patch));
}
