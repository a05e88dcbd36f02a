// One entry point for the apps service: the files a device's runtime needs for one app, with
// their modes, ready to be written over SFTP into <appDir>. The `hearth-app@.service` unit runs
// <appDir>/run and, when present, <appDir>/stop as ExecStop.
import type { Runtime } from '../../../shared/runtimes';
import { LaunchSpecError } from './launch-spec';
import type { LaunchSpec } from './launch-spec';
import { qemuRunScript, qmpScript, stopScript } from './qemu-launcher';
import { solo5ControlScript, solo5RunScript } from './solo5-launcher';
import { xenConfigName, xenDomainConfig, xenRunScript, xenStopScript } from './xen-config';

export interface LauncherFile {
  path: string;
  content: string;
  /** Octal file mode, as SFTP's chmod takes it ("0755"). */
  mode: string;
}

export interface LauncherOptions {
  /** Seconds a graceful stop may take before the VM is ended (default 30). */
  stopTimeoutS?: number;
  /** Xen: the bridge the guest's network joins (default xenbr0). */
  bridge?: string;
}

export const defaultStopTimeoutS = 30;

const script = (spec: LaunchSpec, name: string, content: string): LauncherFile => ({
  path: `${spec.appDir}/${name}`,
  content,
  mode: '0755',
});

export function launcherFor(
  runtime: Runtime,
  spec: LaunchSpec,
  options: LauncherOptions = {},
): { files: LauncherFile[] } {
  const timeout = options.stopTimeoutS ?? defaultStopTimeoutS;
  switch (runtime) {
    case 'qemu': {
      // KVM or emulation is the spec's accelerator, which a real boot chose (spec.accel).
      return {
        files: [
          script(spec, 'run', qemuRunScript(spec)),
          script(spec, 'qmp', qmpScript(spec)),
          script(spec, 'stop', stopScript(spec, timeout)),
        ],
      };
    }
    case 'xen':
      return {
        files: [
          {
            path: `${spec.appDir}/${xenConfigName}`,
            content: xenDomainConfig(spec, { bridge: options.bridge ?? 'xenbr0' }),
            mode: '0644',
          },
          script(spec, 'run', xenRunScript(spec)),
          script(spec, 'stop', xenStopScript(spec, timeout)),
        ],
      };
    case 'hvt':
    case 'spt':
      // The manifest (spec.solo5) says which devices to wire; the network is the agent's.
      return {
        files: [
          script(spec, 'run', solo5RunScript(runtime, spec)),
          script(spec, 'qmp', solo5ControlScript(runtime, spec)),
        ],
      };
    default:
      throw new LaunchSpecError(`unknown runtime ${JSON.stringify(runtime satisfies never)}`);
  }
}
