import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerDiscoveryIpc(handle: Handle, services: AppServices): void {
  handle('discovery:list', () => services.discovery.list());
  handle('discovery:addByAddress', ({ address }) => services.discovery.addByAddress(address));
  handle('discovery:scan', () => ({ taskId: services.scanNetwork() }));
}
