// Every domain's channels, registered on whichever transport the shell provides.
import type { AppServices } from '../app-services';
import { registerAppIpc } from './app-ipc';
import { registerChecksIpc } from './checks-ipc';
import type { Handle } from './handle';
import { registerSettingsIpc } from './settings-ipc';
import { registerTasksIpc } from './tasks-ipc';

export function registerIpc(handle: Handle, services: AppServices): void {
  registerAppIpc(handle, services);
  registerSettingsIpc(handle, services);
  registerTasksIpc(handle, services);
  registerChecksIpc(handle, services);
}
