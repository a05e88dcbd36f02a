// "Prepare this device" as the wizard starts it: provisioning over a connection that verifies
// the key the owner confirmed and, once more (the wizard checked first), refuses an identity
// that belongs to another device Hearth knows. The record is saved only at the end.
import type { DeviceRecord } from '../../../shared/model';
import { checkIdentity, refuseUnlessTrusted } from '../devices/identity-check';
import type { DeviceStore } from '../devices/device-store';
import type { ConnectOptions } from '../ssh/ssh-connect';
import type { SshSession } from '../ssh/ssh-session';
import type { TaskManager } from '../tasks/task-manager';
import { provision } from './provisioner';
import type { ProvisionRequest } from './provisioner';

export interface PrepareDeviceDeps {
  tasks: TaskManager;
  hearthVersion: string;
  installKey: () => Promise<{ publicKey: string; privateKey: string }>;
  devices: Pick<DeviceStore, 'list' | 'save'>;
  /** What the network says about whoever answers at an address (Hearth ids, host names). */
  claimsAt: (address: string) => { hearthIds: string[]; hostnames: string[] };
  /** Tells discovery the key that answered at an address, so its entries merge by identity. */
  learned: (address: string, fingerprint: string) => void;
  connect: (options: ConnectOptions) => Promise<SshSession>;
}

/** Starts preparing the device; returns the task's id. */
export function prepareDevice(deps: PrepareDeviceDeps, request: ProvisionRequest): string {
  return provision(
    {
      tasks: deps.tasks,
      hearthVersion: deps.hearthVersion,
      installKey: deps.installKey,
      saveDevice: async (record: DeviceRecord) => {
        await deps.devices.save(record);
        deps.learned(request.address, record.hostKeyFingerprint);
      },
      connect: async (r) => {
        // Defence in depth: the wizard already refused a changed or borrowed identity.
        const sighting = { address: r.address, ...deps.claimsAt(r.address) };
        refuseUnlessTrusted(
          checkIdentity(await deps.devices.list(), sighting, r.fingerprint),
          r.fingerprint,
        );
        return deps.connect({
          host: r.address,
          port: r.port,
          username: r.username,
          auth: r.auth,
          hostKey: { kind: 'pinned', fingerprint: r.fingerprint },
          signal: r.signal,
        });
      },
    },
    request,
  ).taskId;
}
