// The "Install from a file" form as data: its first values from what Hearth learned about the
// file, the problems that keep it from being sent (the app checks the same again), and the
// request it becomes.
import type { InvokeRequest } from '../../../shared/ipc';
import type { ChosenImage, DeviceRecord } from '../../../shared/model';
import { serviceTypePattern, shortNamePattern } from '../../../shared/ids';
import { devicesFor, nameFromFile } from './image-words';

export type HealthKind = 'console' | 'tcp' | 'http';

export interface VolumeRow {
  name: string;
  sizeMiB: number | null;
}

export interface PortRow {
  guest: number | null;
  host: number | null;
  protocol: 'tcp' | 'udp';
  /** A DNS-SD service type such as _http._tcp; empty when it is not advertised. */
  service: string;
}

export interface ImageForm {
  name: string;
  deviceId: string;
  memoryMiB: number | null;
  disk: 'ide' | 'virtio';
  volumes: VolumeRow[];
  ports: PortRow[];
  bootArgs: string;
  healthKind: HealthKind;
  pattern: string;
  healthPort: number | null;
  healthPath: string;
}

export const memoryLimits = { min: 8, max: 16384 } as const;
const volumeName = shortNamePattern;
const serviceType = serviceTypePattern;
const printable = /^[\x20-\x7e]*$/;

export function initialForm(image: ChosenImage, devices: readonly DeviceRecord[]): ImageForm {
  const { suggested } = image;
  const health = suggested.health;
  return {
    name: nameFromFile(image.fileName),
    deviceId: devicesFor(image, devices)[0]?.id ?? '',
    memoryMiB: suggested.memoryMiB,
    disk: suggested.disk,
    volumes: suggested.volumes.map((v) => ({ ...v })),
    ports: suggested.ports.map((p) => ({ ...p, service: p.service ?? '' })),
    bootArgs: suggested.bootArgs,
    healthKind: health.kind,
    pattern: health.kind === 'console' ? health.pattern : '',
    healthPort: health.kind === 'console' ? null : health.port,
    healthPath: health.kind === 'http' ? health.path : '/',
  };
}

const isPort = (n: number | null): n is number => Number.isInteger(n) && n! >= 1 && n! <= 65535;

/** What keeps the form from being sent, one sentence each; empty when it is ready. */
export function formProblems(form: ImageForm, image: ChosenImage): string[] {
  const problems: string[] = [];
  if (!form.name.trim()) problems.push('Give the app a name.');
  if (!form.deviceId) problems.push('Choose a device to install it on.');
  const m = form.memoryMiB;
  if (m === null || !Number.isInteger(m) || m < memoryLimits.min || m > memoryLimits.max)
    problems.push(
      `Memory must be a whole number from ${memoryLimits.min} to ${memoryLimits.max} MB.`,
    );
  const names = new Set<string>();
  form.volumes.forEach((v, i) => {
    if (!volumeName.test(v.name))
      problems.push(
        `Volume ${i + 1}: its name must start with a small letter and use only small letters, digits and dashes.`,
      );
    else if (names.has(v.name)) problems.push(`Two volumes are called ${v.name}.`);
    names.add(v.name);
    if (v.sizeMiB === null || !Number.isInteger(v.sizeMiB) || v.sizeMiB < 1)
      problems.push(`Volume ${v.name || i + 1}: its size must be a whole number of MB.`);
  });
  if (form.disk === 'ide' && form.volumes.length > 4)
    problems.push('With IDE disks an app can have at most 4 volumes.');
  const published = new Set<string>();
  form.ports.forEach((p, i) => {
    if (!isPort(p.guest) || !isPort(p.host))
      problems.push(`Port ${i + 1}: both port numbers must be from 1 to 65535.`);
    // Apps run without administrator rights on the device, which ports below 1024 need.
    else if (p.host < 1024)
      problems.push(`Port ${i + 1}: choose a device port from 1024 up, such as 8080.`);
    else if (published.has(`${p.protocol}/${p.host}`))
      problems.push(`Device port ${p.host} is published twice.`);
    else published.add(`${p.protocol}/${p.host}`);
    if (p.service.trim() && !serviceType.test(p.service.trim()))
      problems.push(`Port ${i + 1}: a service type looks like _http._tcp.`);
  });
  const facts = image.facts;
  if (facts.kind === 'solo5' && facts.networks.length > 0 && form.ports.length === 0)
    problems.push('This app needs a network: publish at least one port.');
  if (facts.kind === 'solo5' && facts.abi === 'virtio' && form.volumes.length > 1)
    problems.push("Solo5's virtio target can use only one storage volume.");
  if (!printable.test(form.bootArgs) || form.bootArgs.length > 2048)
    problems.push('Boot arguments may use only plain letters, digits and punctuation.');
  if (form.healthKind === 'console') {
    if (!form.pattern.trim())
      problems.push('Say which line the app prints when it is ready, such as READY.');
    else if (!printable.test(form.pattern) || form.pattern.length > 200)
      problems.push('The ready line may use only plain letters, digits and punctuation.');
  } else {
    if (!form.ports.some((p) => p.guest !== null && p.guest === form.healthPort))
      problems.push('Hearth checks a port the app publishes: choose one of its published ports.');
    if (form.healthKind === 'http' && !/^\/[\x21-\x7e]*$/.test(form.healthPath))
      problems.push('The page to check must start with /.');
  }
  return problems;
}

export function toRequest(form: ImageForm, token: string): InvokeRequest<'apps:installFromFile'> {
  const health =
    form.healthKind === 'console'
      ? { kind: 'console' as const, pattern: form.pattern.trim() }
      : form.healthKind === 'tcp'
        ? { kind: 'tcp' as const, port: form.healthPort! }
        : { kind: 'http' as const, port: form.healthPort!, path: form.healthPath };
  return {
    token,
    deviceId: form.deviceId,
    name: form.name.trim(),
    memoryMiB: form.memoryMiB!,
    disk: form.disk,
    volumes: form.volumes.map((v) => ({ name: v.name, sizeMiB: v.sizeMiB! })),
    ports: form.ports.map((p) => ({
      guest: p.guest!,
      host: p.host!,
      protocol: p.protocol,
      ...(p.service.trim() ? { service: p.service.trim() } : {}),
    })),
    bootArgs: form.bootArgs,
    health,
  };
}
