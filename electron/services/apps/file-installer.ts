// Install from a file: the owner picks an image (main's native dialog), Hearth says what it is,
// and installs it through the same pipeline as catalog apps under an app id of its own.
import { HearthError } from '../../../shared/errors';
import type { InvokeRequest } from '../../../shared/ipc';
import type { ChosenImage } from '../../../shared/model';
import type { DeviceClient } from '../device/device-client';
import type { DeviceStore } from '../devices/device-store';
import { freeAppId } from './app-id';
import type { AppInstaller } from './app-installer';
import type { AppMonitor } from './app-monitor';
import type { ChosenImages } from './chosen-images';
import { localImagePort } from './local-image';

export interface FileInstallerDeps {
  devices: Pick<DeviceStore, 'get'>;
  images: ChosenImages;
  installer: Pick<AppInstaller, 'install'>;
  monitor: Pick<AppMonitor, 'appIdsOn'>;
  client: (deviceId: string) => Promise<DeviceClient>;
  /**
   * Asks the owner for an image file (Electron's open dialog); null when they cancel. Absent
   * where there is no native dialog (browser mode without --choose-file).
   */
  chooseFile?: () => Promise<string | null>;
}

export class FileInstaller {
  readonly #deps: FileInstallerDeps;

  constructor(deps: FileInstallerDeps) {
    this.#deps = deps;
  }

  /** The owner picks an image file; null when they cancel. */
  async chooseImage(): Promise<ChosenImage | null> {
    if (!this.#deps.chooseFile) throw new HearthError('NO_FILE_DIALOG');
    const path = await this.#deps.chooseFile();
    return path === null ? null : this.#deps.images.choose(path);
  }

  async install({
    token,
    deviceId,
    name,
    ...resources
  }: InvokeRequest<'apps:installFromFile'>): Promise<{ taskId: string; appId: string }> {
    const image = this.#deps.images.get(token);
    const device = await this.#deps.devices.get(deviceId);
    const client = await this.#deps.client(deviceId);
    // The same file installed again on the same device (a retry, even after choosing it again
    // or restarting Hearth) keeps its id, so the upload resumes where it stopped. A new id is
    // one no app and no kept data on the device uses, so a file never takes over another's.
    const appId =
      image.appIds.get(deviceId) ??
      (await client.unfinishedInstallOf(image.sha256)) ??
      freeAppId(
        name,
        new Set([...this.#deps.monitor.appIdsOn(deviceId), ...(await client.appFolders())]),
      );
    const port = localImagePort({ image, appId, name, deviceName: device.name, resources });
    const taskId = await this.#deps.installer.install(deviceId, appId, port);
    image.appIds.set(deviceId, appId);
    return { taskId, appId };
  }
}
