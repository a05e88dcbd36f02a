// What the updates tests share: a real CatalogService over a signed index on disk (the same
// resolve an install uses), and a monitor that knows a few installed apps. Test support only.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceRecord, InstalledApp } from '../../../shared/model';
import { deviceRecord, appSpec } from '../apps/apps-test-kit';
import type { KnownApp } from '../apps/app-monitor';
import type { AppVersion, CatalogIndex, Target } from '../catalog/catalog-schema';
import { CatalogService } from '../catalog/catalog-service';
import { makeTestKey, sampleApp, sampleIndex, signedText } from '../catalog/test-catalog';
import { AtomicJsonStore } from '../store/atomic-json-store';

const key = makeTestKey();

/** A build of Counter for `targets`, with optional release notes. */
export function counterVersion(
  version: string,
  targets: Target[],
  releaseNotes?: string,
): AppVersion {
  const base = sampleApp().versions[0]!;
  return {
    ...structuredClone(base),
    version,
    artifacts: Object.fromEntries(
      targets.map((t) => [
        t,
        { url: `http://127.0.0.1:9/${version}-${t}`, size: 1, sha256: 'b'.repeat(64) },
      ]),
    ),
    ...(releaseNotes === undefined ? {} : { releaseNotes }),
  };
}

export function counterIndex(versions: AppVersion[]): CatalogIndex {
  return sampleIndex({ name: 'Hearth apps', apps: [sampleApp({ versions })] });
}

/** The built-in catalog holding `index`, read as Hearth reads it. */
export async function catalogWith(dir: string, index: CatalogIndex): Promise<CatalogService> {
  const path = join(dir, 'default.json');
  await writeFile(path, signedText(index, key));
  return new CatalogService({
    store: new AtomicJsonStore(join(dir, 'catalog-state')),
    trustedKeys: [key.trusted],
    defaultCatalogPath: path,
  });
}

/** A monitor that sees these apps (version as their spec.json says). */
export function fakeMonitor(apps: { appId: string; version: string; device?: DeviceRecord }[]) {
  const known: KnownApp[] = apps.map(({ appId, version, device = deviceRecord() }) => ({
    device,
    spec: appSpec({ appId, version }),
    app: {
      deviceId: device.id,
      deviceName: device.name,
      appId,
      name: appId === 'counter' ? 'Counter' : appId,
      version,
      state: 'running',
      restarts: 0,
      runningSince: 1,
      memoryBytes: null,
      memoryMiB: 32,
      links: [],
      message: null,
    } satisfies InstalledApp,
  }));
  return {
    known,
    list: () => known.map((k) => structuredClone(k.app)),
    get: (deviceId: string, appId: string) =>
      known.find((k) => k.device.id === deviceId && k.app.appId === appId) ?? null,
  };
}
