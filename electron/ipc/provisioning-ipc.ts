import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerProvisioningIpc(handle: Handle, services: AppServices): void {
  handle('provisioning:identify', ({ address, port }) => services.identifyDevice(address, port));
  handle('provisioning:start', (request) => ({ taskId: services.provisionDevice(request) }));
}
