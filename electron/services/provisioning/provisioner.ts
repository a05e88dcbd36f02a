// Prepares a device for Hearth, as a task with a checklist. Every step first looks at
// what is already there, so running it again reports "already done" and changes nothing,
// and a run cut off half-way is finished by the next one.
import { randomUUID } from 'node:crypto';
import { HearthError } from '../../../shared/errors';
import type { DeviceCapabilities, DeviceRecord } from '../../../shared/model';
import { Checklist } from '../tasks/checklist';
import type { StepOutcome } from '../tasks/checklist';
import type { TaskContext, TaskManager } from '../tasks/task-manager';
import { deviceRuntimes, isSolo5Runtime } from '../../../shared/runtimes';
import {
  chooseHypervisor,
  describeCapabilities,
  parseCapabilities,
  tenderNote,
} from './device-capabilities';
import type { DeviceConnection } from '../device/device-connection';
import { HEARTH_HOME, HEARTH_USER, deviceLayout } from '../device/layout';
import { agentScript } from '../device/agent-script';
import { updateStepScript } from '../device/update-step-script';
import {
  appUnitTemplate,
  updateRecoveryUnitTemplate,
  authorizedKeys,
  avahiService,
  deviceJson,
  parseDeviceJson,
  sudoersDropIn,
} from './device-files';
import { checkHearthAccount } from './hearth-account';
import { capabilitiesScript, prepareCommands } from '../device/prepare-commands';
import { checkPaths, ensureHearthDir, ensureHearthFile } from '../device/hearth-trees';
import { RemoteShell } from '../device/root-shell';
import { ensureXenConsoleLogging, ensureXenUnitDropIn } from './xen-host';
import { ensurePeerBackupFiles } from '../device/peer-backups';
import { DEVICE_CONTRACT } from './device-contract';

export const provisioningSteps = [
  'Connect securely',
  'Check what this device is',
  'Check administrator rights',
  'Make sure apps can run here',
  'Create the Hearth account',
  'Allow Hearth only what it needs',
  "Set up Hearth's folders and service",
  'Announce it on your network',
  "Sign in with Hearth's own key",
] as const;

export interface ProvisionRequest {
  address: string;
  port: number;
  /** The fingerprint the owner confirmed; any other key is refused before signing in. */
  fingerprint: string;
  username: string;
  /** Used for this run only: never stored, never logged. */
  password: string;
  sudoPassword?: string;
  /** The owner agreed to install missing packages with apt. */
  allowInstall?: boolean;
}

export interface ConnectRequest {
  address: string;
  port: number;
  fingerprint: string;
  username: string;
  auth: { password: string } | { privateKey: string };
  signal: AbortSignal;
}

export interface ProvisionerDeps {
  tasks: TaskManager;
  connect: (request: ConnectRequest) => Promise<DeviceConnection>;
  installKey: () => Promise<{ publicKey: string; privateKey: string }>;
  saveDevice: (record: DeviceRecord) => Promise<void>;
  hearthVersion: string;
  now?: () => number;
}

/** Below this much free space on the device, Hearth will not start. */
const MIN_FREE_BYTES = 512 * 1024 ** 2;
const RUNTIME_PACKAGES = ['qemu-system-x86', 'qemu-utils'];

export function provision(
  deps: ProvisionerDeps,
  request: ProvisionRequest,
): { taskId: string; done: Promise<DeviceRecord> } {
  const handle = deps.tasks.run(
    {
      kind: 'provisioning',
      title: `Prepare the device at ${request.address}`,
      steps: [...provisioningSteps],
    },
    async (ctx) => {
      const record = await runSteps(deps, request, ctx);
      return { value: record, summary: `${record.name} is ready.` };
    },
  );
  return { taskId: handle.id, done: handle.done };
}

async function runSteps(
  deps: ProvisionerDeps,
  request: ProvisionRequest,
  ctx: TaskContext,
): Promise<DeviceRecord> {
  const list = new Checklist(ctx, provisioningSteps);
  const step = <T>(work: () => Promise<StepOutcome<T>>): Promise<T> => list.step(work);

  const connection = await step(async () => ({
    value: await deps.connect({
      address: request.address,
      port: request.port,
      fingerprint: request.fingerprint,
      username: request.username,
      auth: { password: request.password },
      signal: ctx.signal,
    }),
    state: 'done',
    note: `Signed in as ${request.username}; the device proved its identity.`,
  }));
  const onAbort = () => connection.close();
  ctx.signal.addEventListener('abort', onAbort, { once: true });

  try {
    const shell = new RemoteShell(connection, ctx.signal);

    const caps = await step(async () => {
      const caps = parseCapabilities(await shell.check(capabilitiesScript, 'describe itself'));
      if (!caps.os.debianFamily)
        throw new HearthError(
          'NOT_DEBIAN',
          `Hearth can prepare devices running Debian or Raspberry Pi OS. This one runs ${caps.os.name}.`,
        );
      if (!caps.systemd)
        throw new HearthError(
          'NO_SYSTEMD',
          'This device does not use systemd, which Hearth needs to look after apps.',
        );
      if (caps.freeDiskBytes !== null && caps.freeDiskBytes < MIN_FREE_BYTES)
        throw new HearthError('DISK_NEARLY_FULL');
      return { value: caps, state: 'done' as const, note: describeCapabilities(caps) };
    });

    await step(async () => {
      const mode = await shell.detectSudo(request.sudoPassword ?? request.password);
      const note =
        mode.kind === 'password'
          ? 'Your password allows system changes; Hearth uses it only now.'
          : 'This account may make system changes.';
      return { value: mode, state: 'done' as const, note };
    });

    const hypervisor = await step(async () => {
      let current: DeviceCapabilities = caps;
      let state: 'done' | 'already-done' = 'already-done';
      if (!chooseHypervisor(current)) {
        if (!request.allowInstall) {
          throw new HearthError(
            'NO_VIRTUALIZATION',
            'This device needs QEMU to run apps. Allow Hearth to install it, then try again.',
          );
        }
        await shell.checkAsRoot(prepareCommands.installPackages(RUNTIME_PACKAGES), 'install QEMU', {
          timeoutMs: 30 * 60_000,
        });
        current = parseCapabilities(await shell.check(capabilitiesScript, 'describe itself'));
        state = 'done';
      }
      const hv = chooseHypervisor(current);
      if (!hv) throw new HearthError('NO_VIRTUALIZATION');
      const names = { xen: 'Xen', kvm: 'QEMU (with KVM when it works)', qemu: 'QEMU' } as const;
      let note = `Apps will run under ${names[hv]}. ${tenderNote(current, hv)}`;
      // Preparing a device again is the owner's way to say "try everything again", e.g. after
      // moving its disk to a board whose KVM works.
      // The marker is in the hearth account's tree: looked at and removed as hearth.
      if ((await shell.asRoot(prepareCommands.kvmFailureNoted)).code === 0) {
        await shell.checkAsRoot(prepareCommands.forgetKvmFailure, 'forget an old KVM failure');
        state = 'done';
        note += ' Hearth will try KVM again for the next app it installs.';
      }
      // Tender apps' published ports are forwarded with nftables (in Debian, not always there).
      const tenders = deviceRuntimes({ hypervisor: hv, capabilities: current }).filter(
        isSolo5Runtime,
      );
      if (tenders.length > 0 && (await shell.asRoot(prepareCommands.nftablesPresent)).code !== 0) {
        if (request.allowInstall) {
          await shell.checkAsRoot(
            prepareCommands.installPackages(['nftables']),
            'install nftables',
            {
              timeoutMs: 10 * 60_000,
            },
          );
          state = 'done';
          note += ' Hearth installed nftables, which opens the ports of those apps.';
        } else {
          note +=
            ' Their ports need nftables, which this device lacks: allow Hearth to install it (or install the nftables package), then prepare the device again.';
        }
      }
      if (hv === 'xen') {
        const logging = await ensureXenConsoleLogging(shell);
        if (logging.kind === 'changed') state = 'done';
        note +=
          logging.kind === 'unknown'
            ? ' Hearth could not find where Xen keeps what apps print, so their console view may stay empty.'
            : ' Xen keeps what each app prints, so Hearth can show it to you.';
      }
      return { value: hv, state, note };
    });

    const { publicKey, privateKey } = await deps.installKey();

    await step(async () => {
      let changed = false;
      if (!checkHearthAccount(await shell.run(prepareCommands.hearthAccount))) {
        await shell.checkAsRoot(prepareCommands.createHearthAccount, 'create the hearth account');
        changed = true;
      }
      // The home, .ssh and the key file are the hearth account's: looked at without following
      // links, then written as hearth (hearth-trees.ts).
      const home = await checkPaths(shell, [
        { path: deviceLayout.hearthHome, kind: 'directory', owner: HEARTH_USER },
        { path: deviceLayout.sshDir, kind: 'directory', owner: HEARTH_USER },
        { path: deviceLayout.authorizedKeys, kind: 'file', owner: HEARTH_USER },
      ]);
      if (home.get(deviceLayout.hearthHome)?.kind !== 'directory')
        throw new HearthError(
          'DEVICE_TAMPERED',
          `The hearth account on this device has no home folder at ${HEARTH_HOME}, so Hearth stopped before changing it. Remove the hearth account, then prepare the device again.`,
        );
      const groups = (await shell.run(prepareCommands.hearthGroups)).stdout.split(/\s+/);
      const hasKvmGroup = (await shell.run(prepareCommands.kvmGroupExists)).code === 0;
      if (hasKvmGroup && !groups.includes('kvm')) {
        await shell.checkAsRoot(
          prepareCommands.addHearthToKvm,
          'let the hearth account use virtualization',
        );
        changed = true;
      }
      changed =
        (await ensureHearthDir(
          shell,
          deviceLayout.sshDir,
          '0700',
          home.get(deviceLayout.sshDir),
        )) || changed;
      changed =
        (await ensureHearthFile(
          shell,
          deviceLayout.authorizedKeys,
          authorizedKeys(publicKey),
          '0600',
        )) || changed;
      return {
        value: undefined,
        state: changed ? 'done' : 'already-done',
        note: 'Hearth signs in with its own key, never your password.',
      };
    });

    await step(async () => {
      // The agent's folder is checked and the agent in place before sudoers names it: a rule
      // pointing into a folder the hearth account could write would hand it root.
      const lib = await checkPaths(shell, [
        { path: deviceLayout.libDir, kind: 'directory', owner: 'root' },
        { path: deviceLayout.agent, kind: 'file', owner: 'root' },
      ]);
      for (const path of [deviceLayout.libDir, deviceLayout.agent])
        if (/[2367]/.test(lib.get(path)?.mode.slice(-2) ?? ''))
          throw new HearthError(
            'DEVICE_TAMPERED',
            `Hearth stopped before touching it: on this device, ${path} may be changed by accounts other than root. Someone may have tampered with the device: check it, or reinstall it, then prepare it again.`,
          );
      let changed = await shell.ensureFile(deviceLayout.agent, agentScript(), '0755', 'root:root');
      changed =
        (await shell.ensureFile(
          deviceLayout.updateStep,
          updateStepScript(),
          '0755',
          'root:root',
        )) || changed;
      changed =
        (await shell.ensureFile(
          deviceLayout.sudoers,
          sudoersDropIn(),
          '0440',
          'root:root',
          prepareCommands.checkSudoers,
        )) || changed;
      return {
        value: undefined,
        state: changed ? 'done' : 'already-done',
        note:
          hypervisor === 'xen'
            ? 'It may start, stop and check Hearth apps. On Xen those apps run with full rights, as Xen requires.'
            : 'It may start, stop and check Hearth apps, and nothing else.',
      };
    });

    const identity = await step(async () => {
      // Root's own folders first, then hearth's trees inside /var/lib, all before anything is read.
      const trees = await checkPaths(shell, [
        { path: deviceLayout.configDir, kind: 'directory', owner: 'root' },
        { path: deviceLayout.deviceJson, kind: 'file', owner: HEARTH_USER },
        { path: deviceLayout.stateDir, kind: 'directory', owner: HEARTH_USER },
        { path: deviceLayout.appsDir, kind: 'directory', owner: HEARTH_USER },
      ]);
      const existing = parseDeviceJson(
        trees.get(deviceLayout.deviceJson)?.kind === 'file'
          ? (await shell.asRoot(prepareCommands.readFile(deviceLayout.deviceJson))).stdout
          : '',
      );
      const now = deps.now ?? Date.now;
      const id = existing?.id ?? randomUUID();
      const hostname = (await shell.run(prepareCommands.hostname)).stdout
        .trim()
        .replace(/[^\w.-]/g, '')
        .slice(0, 64);
      const name = existing?.name || hostname || caps.os.name;
      const provisionedAt = existing?.provisionedAt ?? new Date(now()).toISOString();
      let changed = false;
      const config = trees.get(deviceLayout.configDir);
      if (config?.kind !== 'directory' || config.mode !== '755') {
        await shell.checkAsRoot(prepareCommands.makeConfigDir, "create Hearth's folders");
        changed = true;
      }
      // /var/lib is root's, so root may make the hearth account's folder there; inside it, the
      // hearth account does the work itself.
      const state = trees.get(deviceLayout.stateDir);
      if (state?.kind !== 'directory') {
        await shell.checkAsRoot(prepareCommands.makeStateDir, "create Hearth's folders");
        changed = true;
      } else {
        changed = (await ensureHearthDir(shell, deviceLayout.stateDir, '0750', state)) || changed;
      }
      changed =
        (await ensureHearthDir(
          shell,
          deviceLayout.appsDir,
          '0750',
          trees.get(deviceLayout.appsDir),
        )) || changed;
      // Owned by the hearth account, so renaming the device later needs no root.
      changed =
        (await shell.ensureFile(
          deviceLayout.deviceJson,
          deviceJson({
            id,
            name,
            provisionedAt,
            hearthVersion: existing?.hearthVersion || deps.hearthVersion,
          }),
          '0644',
          `${HEARTH_USER}:${HEARTH_USER}`,
        )) || changed;
      // The agent took over the advertise helper's work (its advertise and withdraw verbs).
      if (
        (await shell.asRoot(prepareCommands.presentOrLink(deviceLayout.oldAdvertiseHelper)))
          .code === 0
      ) {
        await shell.checkAsRoot(
          prepareCommands.removeFile(deviceLayout.oldAdvertiseHelper),
          "remove Hearth's old helper",
        );
        changed = true;
      }
      // The recovery unit first: an app unit wanting a unit that is not there yet would start
      // its app without settling an interrupted update.
      const recoveryChanged = await shell.ensureFile(
        deviceLayout.updateRecoveryTemplate,
        updateRecoveryUnitTemplate(),
        '0644',
        'root:root',
      );
      const unitChanged =
        (await shell.ensureFile(
          deviceLayout.unitTemplate,
          appUnitTemplate(),
          '0644',
          'root:root',
        )) || recoveryChanged;
      const dropInChanged = await ensureXenUnitDropIn(shell, hypervisor === 'xen');
      // Backups to another Hearth device: restic where it is missing (the owner allowed apt),
      // the backup timer's units and script, and the sshd rule for other devices' accounts.
      if (!caps.restic && request.allowInstall) {
        await shell.checkAsRoot(prepareCommands.installPackages(['restic']), 'install restic', {
          timeoutMs: 30 * 60_000,
        });
        changed = true;
      }
      const peer = await ensurePeerBackupFiles(shell);
      changed = peer.other || changed;
      if (unitChanged || dropInChanged || peer.units) {
        await shell.checkAsRoot(prepareCommands.reloadUnits, 'load the Hearth service');
        changed = true;
      }
      // Xen's tools need root, so on a Xen host the apps run with full rights (xenUnitDropIn):
      // the owner should know that Hearth's key is then as powerful as an administrator's.
      const note =
        hypervisor === 'xen'
          ? 'Apps will start when the device starts, and restart if they fail. Xen only lets an administrator run them, so on this device Hearth has full administrator rights.'
          : 'Apps will start when the device starts, and restart if they fail.';
      return {
        value: { id, name, provisionedAt, hostname },
        state: changed ? 'done' : 'already-done',
        note,
      };
    });

    await step(async () => {
      const changed = await shell.ensureFile(
        deviceLayout.avahiService,
        avahiService({ id: identity.id, arch: caps.arch, hv: hypervisor, v: '1' }, request.port),
        '0644',
        'root:root',
      );
      const note = caps.avahi
        ? 'Hearth will find it by itself from now on.'
        : 'This device has no avahi; Hearth will reach it by its address.';
      return { value: undefined, state: changed ? 'done' : 'already-done', note };
    });

    await step(async () => {
      const hearth = await deps.connect({
        address: request.address,
        port: request.port,
        fingerprint: request.fingerprint,
        username: HEARTH_USER,
        auth: { privateKey },
        signal: ctx.signal,
      });
      try {
        const allowed = await hearth.exec(prepareCommands.mayRunAgent, {
          timeoutMs: 30_000,
          signal: ctx.signal,
        });
        if (allowed.code !== 0)
          throw new HearthError(
            'SUDO_REFUSED',
            'The device did not give the Hearth account the rights it was just given. Try again.',
          );
      } finally {
        hearth.close();
      }
      return {
        value: undefined,
        state: 'done' as const,
        note: 'Hearth no longer needs your password for this device.',
      };
    });

    const record: DeviceRecord = {
      id: identity.id,
      name: identity.name,
      hostKeyFingerprint: request.fingerprint,
      addresses: [request.address],
      hostname: identity.hostname,
      sshPort: request.port,
      capabilities: caps,
      hypervisor,
      provisionedAt: Date.parse(identity.provisionedAt) || Date.now(),
      preparedWith: DEVICE_CONTRACT,
    };
    await deps.saveDevice(record);
    return record;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    connection.close();
  }
}
