import type { AppServices } from '../app-services';
import type { Handle } from './handle';

export function registerAlertsIpc(handle: Handle, services: AppServices): void {
  handle('alerts:list', () => services.alerts.list());
}
