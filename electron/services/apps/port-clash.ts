// Two apps on one device cannot publish the same port: the second would fail to start, again
// and again, with nothing but a console line to say why. An install is refused before anything
// is sent, in a sentence that names the app already there.
import { HearthError } from '../../../shared/errors';
import type { AppSpec, PublishedPort } from './app-spec';

type Neighbour = Pick<AppSpec, 'appId' | 'name' | 'ports'>;

/** The first of `ports` an app other than `appId` already publishes, with that app. */
export function portClash(
  appId: string,
  ports: readonly PublishedPort[],
  neighbours: readonly Neighbour[],
): { port: PublishedPort; app: Neighbour } | null {
  for (const port of ports)
    for (const app of neighbours) {
      if (app.appId === appId) continue;
      if (app.ports.some((p) => p.host === port.host && p.protocol === port.protocol))
        return { port, app };
    }
  return null;
}

/** Refuses the install of `name` on `deviceName` when one of its ports is taken there. */
export function refusePortClash(
  app: { appId: string; name: string; ports: readonly PublishedPort[] },
  deviceName: string,
  neighbours: readonly Neighbour[],
): void {
  const clash = portClash(app.appId, app.ports, neighbours);
  if (!clash) return;
  const port = `port ${clash.port.host}${clash.port.protocol === 'udp' ? ' (UDP)' : ''}`;
  throw new HearthError(
    'APP_UNSUITABLE',
    `${app.name} needs ${port} on ${deviceName}, which ${clash.app.name} already uses. Install ${app.name} on another device, or remove ${clash.app.name} from ${deviceName} first.`,
  );
}
