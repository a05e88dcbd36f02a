// The files beside an app on its device: spec.json (what was deployed), the health pattern,
// the announcement the root agent reads, and the launcher for its runtime. Installs, memory
// changes and (later) updates write exactly these, through DeviceClient.writeAppFiles.
import type { DeviceRecord } from '../../../shared/model';
import { archOf, isSolo5Runtime, isTarget, runtimeOf } from '../../../shared/runtimes';
import type { Runtime } from '../../../shared/runtimes';
import { agentNetworkFile } from '../device/agent-protocol';
import type { AppFile } from '../device/device-client';
import { appPaths, wakeInternalPort } from '../device/layout';
import { sleepFile } from '../device/sleep-units';
import { advertiseFile } from '../provisioning/device-files';
import type { LaunchInput, LauncherPort } from './app-ports';
import type { AppSpec } from './app-spec';

/**
 * The agent's `network` file: a tender app's networks and ports; nothing for the others. A
 * sleeping tender app gets no forwards: its sockets hold the ports, and its proxies reach the
 * unikernel at its own address (sleep-units.ts).
 */
function networkFile(runtime: Runtime, spec: AppSpec): string {
  const nets = spec.solo5?.devices.filter((d) => d.type === 'NET_BASIC').length ?? 0;
  if (!isSolo5Runtime(runtime) || nets === 0) return '';
  return agentNetworkFile(nets, spec.sleep ? [] : spec.ports);
}

export function appFiles(
  launcher: LauncherPort,
  device: Pick<DeviceRecord, 'id'>,
  spec: AppSpec,
): AppFile[] {
  if (!isTarget(spec.target)) throw new Error(`not a target: ${spec.target}`);
  const p = appPaths(spec.appId);
  const runtime = runtimeOf(spec.target);
  // Asleep, QEMU listens on loopback; the device's sockets hold the published ports.
  const internal = spec.sleep && runtime === 'qemu';
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
    ports: spec.ports.map(({ name, guest, host, protocol }) => ({
      name,
      guest,
      host,
      protocol,
      ...(internal ? { internal: wakeInternalPort(host) } : {}),
    })),
    bootArgs: spec.bootArgs,
    accel: spec.accel,
    ...(spec.solo5 ? { solo5: spec.solo5 } : {}),
  };
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
    // Read by the device's root agent when the unit starts (net-up): a tender app's taps and
    // the ports forwarded to it. Empty for the other runtimes (they need nothing of the agent).
    { name: 'network', content: networkFile(runtime, spec), mode: '0644' },
    // Read by the device's root agent when the unit starts (mDNS). Xen guests have their own
    // address and nothing is forwarded on dom0: announcing dom0's port would send clients where
    // nothing listens, so they are not announced (yet).
    {
      name: 'advertise',
      content: advertiseFile(spec.name, runtime === 'xen' ? [] : spec.ports),
      mode: '0644',
    },
    // Read by the root agent (sleep-on, wake-wait): where the sleeping app listens instead.
    {
      name: 'sleep',
      content: spec.sleep
        ? sleepFile(
            spec.name,
            spec.ports,
            spec.sleep.idleSeconds,
            isSolo5Runtime(runtime) ? 'tender' : 'loopback',
          )
        : '',
      mode: '0644',
    },
    ...launch,
  ];
}
