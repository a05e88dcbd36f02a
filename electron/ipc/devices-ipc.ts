import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerDevicesIpc(handle: Handle, services: AppServices): void {
  handle('devices:list', () => services.devices.list());
  handle('devices:rename', ({ id, name }) => services.renameDevice(id, name));
  handle('devices:forget', ({ id }) => services.forgetDevice(id));
}
