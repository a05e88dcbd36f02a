// Every domain's channels, registered on whichever transport the shell provides.
import type { AppServices } from '../app-services';
import { registerAlertsIpc } from './alerts-ipc';
import { registerAppIpc } from './app-ipc';
import { registerAppsIpc } from './apps-ipc';
import { registerBackupsIpc } from './backups-ipc';
import { registerChecksIpc } from './checks-ipc';
import { registerDevicesIpc } from './devices-ipc';
import { registerDiscoveryIpc } from './discovery-ipc';
import type { Handle } from './handle';
import { registerProvisioningIpc } from './provisioning-ipc';
import { registerSettingsIpc } from './settings-ipc';
import { registerTasksIpc } from './tasks-ipc';
import { registerUpdatesIpc } from './updates-ipc';

export function registerIpc(handle: Handle, services: AppServices): void {
  registerAppIpc(handle, services);
  registerSettingsIpc(handle, services);
  registerTasksIpc(handle, services);
  registerChecksIpc(handle, services);
  registerDevicesIpc(handle, services);
  registerDiscoveryIpc(handle, services);
  registerProvisioningIpc(handle, services);
  registerAppsIpc(handle, services);
  registerBackupsIpc(handle, services);
  registerUpdatesIpc(handle, services);
  registerAlertsIpc(handle, services);
}
