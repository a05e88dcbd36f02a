// The files beside an app on its device: spec.json (what was deployed), the health pattern,
// the announcement the root agent reads, and the launcher for its runtime. Installs, memory
// changes and (later) updates write exactly these, through DeviceClient.writeAppFiles.
import type { DeviceRecord } from '../../../shared/model';
import { archOf, isTarget, runtimeOf } from '../../../shared/runtimes';
import type { AppFile } from '../device/device-client';
import { appPaths } from '../device/layout';
import { advertiseFile } from '../provisioning/device-files';
import type { LaunchInput, LauncherPort } from './app-ports';
import type { AppSpec } from './app-spec';

export function appFiles(launcher: LauncherPort, device: DeviceRecord, spec: AppSpec): AppFile[] {
  if (!isTarget(spec.target)) throw new Error(`not a target: ${spec.target}`);
  const p = appPaths(spec.appId);
  const input: LaunchInput = {
    appId: spec.appId,
    hostId: device.id,
    appDir: p.dir,
    arch: archOf(spec.target),
    kernelPath: p.current,
    ...(spec.initrdSha256 ? { initrdPath: p.image(spec.initrdSha256) } : {}),
    memoryMiB: spec.memoryMiB,
    volumes: spec.volumes.map((v) => ({ name: v.name, path: p.volume(v.name) })),
    disk: spec.disk,
    ports: spec.ports.map(({ name, guest, host, protocol }) => ({ name, guest, host, protocol })),
    bootArgs: spec.bootArgs,
    accel: spec.accel,
  };
  const runtime = runtimeOf(spec.target);
  const launch = launcher.files(runtime, input).map((file) => {
    if (!file.path.startsWith(`${p.dir}/`))
      throw new Error(`launcher file outside the app: ${file.path}`);
    return { name: file.path.slice(p.dir.length + 1), content: file.content, mode: file.mode };
  });
  return [
    { name: 'spec.json', content: `${JSON.stringify(spec)}\n`, mode: '0644' },
    {
      name: 'health-pattern',
      content: spec.health.kind === 'console' ? spec.health.pattern : '',
      mode: '0644',
    },
    // Read by the device's root agent when the unit starts (mDNS). Xen guests have their own
    // address and nothing is forwarded on dom0: announcing dom0's port would send clients where
    // nothing listens, so they are not announced (yet).
    {
      name: 'advertise',
      content: advertiseFile(spec.name, runtime === 'xen' ? [] : spec.ports),
      mode: '0644',
    },
    ...launch,
  ];
}
