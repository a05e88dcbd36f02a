// What the apps service needs from the catalog and the runtimes, as narrow ports: the
// service is tested with fakes, and app-services.ts adapts the real modules to these.
import type { Accel, Runtime, Target } from '../../../shared/runtimes';
import type { LaunchSpec } from '../runtimes/launch-spec';
import type { PublishedPort } from './app-spec';

export interface ArtifactRef {
  url: string;
  size: number;
  sha256: string;
}

export interface AppResources {
  memoryMiB: number;
  volumes: { name: string; sizeMiB: number }[];
  ports: PublishedPort[];
  bootArgs: string;
  health:
    | { kind: 'console'; pattern: string }
    | { kind: 'tcp'; port: number }
    | { kind: 'http'; port: number; path: string };
  /** The catalog lets it sleep when idle (on at install when it publishes a TCP port). */
  sleepWhenIdle?: boolean | undefined;
}

export interface ResolvedApp {
  /** A signed catalog's app, or an image the owner chose: they never share a folder. */
  origin: 'catalog' | 'file';
  appId: string;
  name: string;
  version: string;
  target: Target;
  artifact: ArtifactRef & { disk: 'ide' | 'virtio'; initrd?: ArtifactRef };
  resources: AppResources;
}

export interface AppCatalogPort {
  resolve(appId: string, target: Target): Promise<ResolvedApp>;
  /** Downloads (resumably) and verifies; resolves with a local file that matches sha256. */
  download(
    artifact: ArtifactRef,
    options: { signal: AbortSignal; onProgress: (done: number, total: number) => void },
  ): Promise<string>;
}

export interface LaunchFile {
  path: string;
  content: string;
  mode: string;
}

export interface LaunchInput {
  appId: string;
  appDir: string;
  arch: 'x86_64' | 'aarch64';
  kernelPath: string;
  initrdPath?: string;
  memoryMiB: number;
  volumes: { name: string; path: string }[];
  disk: 'ide' | 'virtio';
  ports: LaunchSpec['ports'];
  bootArgs: string;
  accel: Accel;
  hostId?: string;
  /** Solo5 tenders: the devices the image's manifest names. */
  solo5?: { devices: { name: string; type: 'NET_BASIC' | 'BLOCK_BASIC' }[] };
}

export interface LauncherPort {
  files(runtime: Runtime, spec: LaunchInput): LaunchFile[];
}
