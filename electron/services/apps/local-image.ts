// The catalog port for an image the owner chose from a file: "resolve" is the owner's form
// (checked against what the image is and where it is going), and "download" checks the file
// again, refusing it if it changed since it was chosen. The rest of the install is the same
// pipeline as for catalog apps (app-installer.ts).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { HearthError } from '../../../shared/errors';
import type { ImageResources } from '../../../shared/model';
import type { Target } from '../../../shared/runtimes';
import type { AppCatalogPort, AppResources, ResolvedApp } from './app-ports';
import type { ChosenImageRecord } from './chosen-images';
import { refusalOn } from './image-targets';

export interface LocalImageInstall {
  image: ChosenImageRecord;
  appId: string;
  name: string;
  deviceName: string;
  resources: ImageResources;
}

/** A port name for the launcher (shared/ids.ts): "http" for _http._tcp, else port-80. */
function portNames(ports: ImageResources['ports']): string[] {
  const used = new Set<string>();
  return ports.map((p) => {
    const base = /^_([a-z][a-z0-9-]{0,20})\._/.exec(p.service ?? '')?.[1] ?? `port-${p.guest}`;
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}-${n}`;
    used.add(name);
    return name;
  });
}

/** Why these resources cannot work for this image, or null. The form says the same first. */
export function resourcesProblem(install: LocalImageInstall): string | null {
  const { facts } = install.image;
  const { resources } = install;
  if (facts.kind === 'solo5' && facts.networks.length > 0 && resources.ports.length === 0)
    return `${install.name} needs a network: publish at least one port, and Hearth connects it through them.`;
  if (resources.disk === 'ide' && resources.volumes.length > 4)
    return 'A machine with IDE disks has room for at most 4 storage volumes.';
  if (facts.kind === 'solo5' && facts.abi === 'virtio' && resources.volumes.length > 1)
    return "Solo5's virtio target can use only one storage volume.";
  const health = resources.health;
  if (health.kind !== 'console' && !resources.ports.some((p) => p.guest === health.port))
    return `Hearth checks ${install.name} on a port it publishes: publish port ${health.port} or choose another check.`;
  return null;
}

export function localImagePort(install: LocalImageInstall): AppCatalogPort {
  const { image } = install;
  return {
    resolve: async (appId: string, target: Target): Promise<ResolvedApp> => {
      await Promise.resolve();
      if (appId !== install.appId) throw new HearthError('NOT_FOUND');
      const refusal = refusalOn(image.facts, target, install.deviceName);
      if (refusal !== null) throw new HearthError('APP_UNSUITABLE', refusal);
      const problem = resourcesProblem(install);
      if (problem !== null) throw new HearthError('INVALID_INPUT', problem);
      const names = portNames(install.resources.ports);
      const resources: AppResources = {
        memoryMiB: install.resources.memoryMiB,
        volumes: install.resources.volumes.map((v) => ({ ...v })),
        ports: install.resources.ports.map((p, i) => ({
          name: names[i]!,
          guest: p.guest,
          host: p.host,
          protocol: p.protocol,
          ...(p.service ? { service: p.service, path: '/' } : {}),
        })),
        bootArgs: install.resources.bootArgs,
        health: { ...install.resources.health },
      };
      // Solo5's virtio bindings drive virtio devices only; the form's choice is for kernels.
      const disk = image.facts.kind === 'solo5' ? 'virtio' : install.resources.disk;
      return {
        origin: 'file',
        appId: install.appId,
        name: install.name,
        version: `file ${image.sha256.slice(0, 12)}`,
        target,
        artifact: { url: `file:${image.fileName}`, size: image.size, sha256: image.sha256, disk },
        resources,
      };
    },

    download: async (artifact, { signal, onProgress }) => {
      const changed = new HearthError(
        'INVALID_INPUT',
        `${image.fileName} changed since you chose it, so Hearth did not send it. Choose the file again.`,
      );
      const info = await stat(image.path).catch(() => null);
      if (!info?.isFile())
        throw new HearthError(
          'NOT_FOUND',
          `${image.fileName} is no longer where you chose it. Choose the file again.`,
        );
      if (info.size !== artifact.size) throw changed;
      const hash = createHash('sha256');
      let done = 0;
      for await (const chunk of createReadStream(image.path, { signal })) {
        const bytes = chunk as Buffer;
        done += bytes.byteLength;
        if (done > artifact.size) throw changed;
        hash.update(bytes);
        onProgress(done, artifact.size);
      }
      if (done !== artifact.size || hash.digest('hex') !== artifact.sha256) throw changed;
      return image.path;
    },
  };
}
