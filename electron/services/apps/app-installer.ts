// Installing an app is a task: download and verify on the laptop, upload under a temporary
// name, verify again on the device, rename into images/<sha256> (so no partial image can
// ever be started), create the data volumes, write the launcher, start it under systemd
// and wait for its health probe. Every step checks first, so a retry resumes.
import { HearthError } from '../../../shared/errors';
import type { DeviceRecord } from '../../../shared/model';
import { deviceLayout } from '../device/layout';
import { advertiseFile } from '../provisioning/device-files';
import { agentCommand } from '../device/agent-protocol';
import { shellQuote } from '../device/shell-quote';
import type { SshSession } from '../ssh/ssh-session';
import type { TaskContext } from '../tasks/task-manager';
import type { AppCatalogPort, LaunchInput, LauncherPort, ResolvedApp } from './app-ports';
import type { AppSpec } from './app-spec';
import { APPS_DIR } from './app-status';

export const installSteps = [
  'Download and check the app',
  'Send it to the device',
  'Check it on the device',
  'Prepare its storage',
  'Set it up to run',
  'Start it',
  'Wait until it is ready',
] as const;

export interface InstallDeps {
  catalog: AppCatalogPort;
  launcher: LauncherPort;
  session: (deviceId: string) => Promise<SshSession>;
  /** Waits until the app is healthy on this boot, or throws with the owner's sentence. */
  waitHealthy: (
    device: DeviceRecord,
    spec: AppSpec,
    timeoutMs: number,
    signal: AbortSignal,
  ) => Promise<boolean>;
  now?: () => number;
}

export function targetFor(device: DeviceRecord): string {
  const arch = device.capabilities.arch === 'aarch64' ? 'aarch64' : 'x86_64';
  return device.hypervisor === 'xen' ? `xen-${arch}` : `qemu-${arch}`;
}

async function run(
  session: SshSession,
  script: string,
  what: string,
  signal: AbortSignal,
): Promise<string> {
  const result = await session.exec(`sh -c ${shellQuote(script)}`, { signal, timeoutMs: 120_000 });
  if (result.code !== 0) {
    if (/no space left/i.test(result.stderr)) throw new HearthError('DISK_NEARLY_FULL');
    throw new HearthError(
      'INTERNAL',
      `The device could not ${what}. Try again; Hearth picks up where it stopped.`,
    );
  }
  return result.stdout;
}

/**
 * Uploads a verified local file to images/<sha256> unless it is already there. The upload
 * goes to a hidden partial name that is resumed after a cut; only a copy whose hash matches
 * is renamed into place, so a partial image can never be started.
 */
async function placeImage(
  session: SshSession,
  appDir: string,
  localPath: string,
  sha256: string,
  signal: AbortSignal,
  onProgress: (sent: number, total: number) => void,
): Promise<{ placed: boolean; resumedFrom: number }> {
  const final = `${appDir}/images/${sha256}`;
  const present = await run(
    session,
    `if [ -f ${final} ]; then sha256sum ${final} | cut -d' ' -f1; fi`,
    'look at its images',
    signal,
  );
  if (present.trim() === sha256) return { placed: false, resumedFrom: 0 };
  const partial = `${appDir}/images/.${sha256}.partial`;
  const { resumedFrom } = await session.uploadFile(partial, localPath, {
    mode: 0o600,
    signal,
    onProgress,
  });
  const check = await run(
    session,
    `sha256sum ${partial} | cut -d' ' -f1`,
    'check the image',
    signal,
  );
  if (check.trim() !== sha256) {
    await run(session, `rm -f ${partial}`, 'clean up', signal);
    throw new HearthError(
      'CONNECTION_LOST',
      'The app arrived damaged on the device, so Hearth threw that copy away. Try again.',
    );
  }
  // The rename is the moment the image becomes usable: it is complete and verified.
  await run(
    session,
    `chmod 0444 ${partial} && mv -f ${partial} ${final}`,
    'store the image',
    signal,
  );
  return { placed: true, resumedFrom };
}

/** Left by a KVM try that failed: apps on this device run under emulation from then on. */
const KVM_UNUSABLE = deviceLayout.kvmUnusable;
const NO_KVM = '@no-kvm@';

const mib = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

export async function installApp(
  deps: InstallDeps,
  device: DeviceRecord,
  appId: string,
  ctx: TaskContext,
): Promise<AppSpec> {
  let index = 0;
  const total = installSteps.length;
  const step = async <T>(
    work: () => Promise<{ value: T; state?: 'done' | 'already-done'; note?: string }>,
  ): Promise<T> => {
    ctx.throwIfCancelled();
    ctx.step(index, 'running');
    ctx.detail(`${installSteps[index]}…`);
    try {
      const outcome = await work();
      ctx.step(index, outcome.state ?? 'done', outcome.note);
      index++;
      ctx.progress(index, total);
      return outcome.value;
    } catch (error) {
      if (!ctx.signal.aborted)
        ctx.step(
          index,
          'failed',
          error instanceof HearthError ? error.message : new HearthError('INTERNAL').message,
        );
      throw error;
    }
  };

  const target = targetFor(device);
  const resolved: ResolvedApp = await deps.catalog.resolve(appId, target);
  const appDir = `${APPS_DIR}/${resolved.appId}`;

  const local = await step(async () => {
    const kernel = await deps.catalog.download(resolved.artifact, {
      signal: ctx.signal,
      onProgress: (done, all) => ctx.progress(index + done / Math.max(all, 1), total),
    });
    const initrd = resolved.artifact.initrd
      ? await deps.catalog.download(resolved.artifact.initrd, {
          signal: ctx.signal,
          onProgress: () => undefined,
        })
      : null;
    return {
      value: { kernel, initrd },
      note: `${resolved.name} ${resolved.version}, checked against the catalog.`,
    };
  });

  const session = await deps.session(device.id);
  const sent = await step(async () => {
    await run(
      session,
      `mkdir -p ${appDir}/images ${appDir}/data && chmod 0750 ${appDir}`,
      'make room for the app',
      ctx.signal,
    );
    const sending = (sent: number, all: number): void => {
      ctx.progress(index + sent / Math.max(all, 1), total);
      ctx.detail(`Sending ${resolved.name} to the device: ${mib(sent)} of ${mib(all)}…`);
    };
    const kernel = await placeImage(
      session,
      appDir,
      local.kernel,
      resolved.artifact.sha256,
      ctx.signal,
      sending,
    );
    const initrd =
      local.initrd && resolved.artifact.initrd
        ? await placeImage(
            session,
            appDir,
            local.initrd,
            resolved.artifact.initrd.sha256,
            ctx.signal,
            sending,
          )
        : { placed: false, resumedFrom: 0 };
    const placed = kernel.placed || initrd.placed;
    const resumed = kernel.resumedFrom + initrd.resumedFrom;
    return {
      value: placed,
      state: placed ? 'done' : 'already-done',
      ...(resumed > 0
        ? { note: `Picked up where it stopped: ${mib(resumed)} were already there.` }
        : {}),
    };
  });

  await step(async () => {
    const hashes = [resolved.artifact.sha256, resolved.artifact.initrd?.sha256].filter(
      Boolean,
    ) as string[];
    const out = await run(
      session,
      `cd ${appDir}/images && sha256sum ${hashes.join(' ')}`,
      'check the app',
      ctx.signal,
    );
    for (const hash of hashes)
      if (!out.includes(`${hash}  ${hash}`)) throw new HearthError('DEVICE_GARBLED');
    return {
      value: undefined,
      state: sent ? 'done' : 'already-done',
      note: 'The copy on the device matches the catalog.',
    };
  });

  await step(async () => {
    const script = resolved.resources.volumes
      .map(
        (v) =>
          `[ -f data/${v.name}.img ] || { truncate -s ${v.sizeMiB}M data/${v.name}.img.new && mv data/${v.name}.img.new data/${v.name}.img && echo created; }`,
      )
      .join('; ');
    const out = script
      ? await run(session, `cd ${appDir} && ${script}`, 'create its storage', ctx.signal)
      : '';
    const created = out.includes('created');
    const note =
      resolved.resources.volumes.length === 0
        ? 'It keeps no data.'
        : created
          ? 'Its storage is ready.'
          : 'Its data from before is kept.';
    return { value: undefined, state: created ? 'done' : 'already-done', note };
  });

  const spec = await step(async () => {
    // KVM only where the hearth account may open /dev/kvm and no app has yet found that it
    // cannot run guests: each failed try costs systemd's whole restart burst (seconds).
    const previous = await run(
      session,
      `cat ${appDir}/spec.json 2>/dev/null; if [ -e ${KVM_UNUSABLE} ] || ! [ -r /dev/kvm -a -w /dev/kvm ]; then echo; echo '${NO_KVM}'; fi; true`,
      'read its settings',
      ctx.signal,
    );
    const accel =
      device.hypervisor === 'kvm' &&
      !previous.includes('"accel":"tcg"') &&
      !previous.split('\n').includes(NO_KVM)
        ? 'kvm'
        : 'tcg';
    const spec: AppSpec = {
      appId: resolved.appId,
      name: resolved.name,
      version: resolved.version,
      target,
      sha256: resolved.artifact.sha256,
      ...(resolved.artifact.initrd ? { initrdSha256: resolved.artifact.initrd.sha256 } : {}),
      disk: resolved.artifact.disk,
      memoryMiB: resolved.resources.memoryMiB,
      volumes: resolved.resources.volumes,
      ports: resolved.resources.ports,
      bootArgs: resolved.resources.bootArgs,
      health: resolved.resources.health,
      accel,
      installedAt: new Date((deps.now ?? Date.now)()).toISOString(),
    };
    await writeAppFiles(deps, session, device, spec, ctx.signal);
    return { value: spec };
  });

  await step(async () => {
    await run(
      session,
      // reset-failed: systemd's start limit also counts starts by hand (a quick reinstall).
      // A restart that reports failure is not the end: an app that dies at once (KVM that
      // cannot run it) fails its start job, and the health wait below judges and falls back.
      `${agentCommand('reset-failed', spec.appId)}; ${agentCommand('enable', spec.appId)} && { ${agentCommand('restart', spec.appId)} || true; }`,
      'start the app',
      ctx.signal,
    );
    return { value: undefined, note: 'It will start again by itself when the device restarts.' };
  });

  return step(async () => {
    let current = spec;
    let healthy = await deps.waitHealthy(
      device,
      current,
      current.accel === 'kvm' ? 15_000 : 90_000,
      ctx.signal,
    );
    if (!healthy && current.accel === 'kvm') {
      // /dev/kvm can exist and still not run guests (LAB.md): fall back to emulation.
      current = { ...current, accel: 'tcg' };
      await writeAppFiles(deps, session, device, current, ctx.signal);
      await run(
        session,
        `${agentCommand('reset-failed', current.appId)}; ${agentCommand('restart', current.appId)} || true`,
        'restart the app',
        ctx.signal,
      );
      healthy = await deps.waitHealthy(device, current, 90_000, ctx.signal);
      // Only an app that runs under emulation after failing under KVM says KVM is the trouble
      // (a wrong port fails both ways): remembered, so the next install skips the same try.
      if (healthy) await run(session, `touch ${KVM_UNUSABLE}`, 'note what it learned', ctx.signal);
    }
    if (!healthy)
      throw new HearthError(
        'COMMAND_TIMEOUT',
        `${current.name} started but did not become ready. Open its console to see what it says.`,
      );
    return { value: current, note: `${current.name} is running.` };
  });
}

/** spec.json, the health pattern and the launcher, each written beside and renamed in. */
export async function writeAppFiles(
  deps: Pick<InstallDeps, 'launcher'>,
  session: SshSession,
  device: DeviceRecord,
  spec: AppSpec,
  signal: AbortSignal,
): Promise<void> {
  const appDir = `${APPS_DIR}/${spec.appId}`;
  const input: LaunchInput = {
    appId: spec.appId,
    hostId: device.id,
    appDir,
    arch: device.capabilities.arch === 'aarch64' ? 'aarch64' : 'x86_64',
    kernelPath: `${appDir}/current`,
    ...(spec.initrdSha256 ? { initrdPath: `${appDir}/images/${spec.initrdSha256}` } : {}),
    memoryMiB: spec.memoryMiB,
    volumes: spec.volumes.map((v) => ({ name: v.name, path: `${appDir}/data/${v.name}.img` })),
    disk: spec.disk,
    ports: spec.ports.map(({ name, guest, host, protocol }) => ({ name, guest, host, protocol })),
    bootArgs: spec.bootArgs,
    accel: spec.accel,
  };
  const hypervisor = device.hypervisor;
  const files = [
    { path: `${appDir}/spec.json`, content: `${JSON.stringify(spec)}\n`, mode: '0644' },
    {
      path: `${appDir}/health-pattern`,
      content: spec.health.kind === 'console' ? spec.health.pattern : '',
      mode: '0644',
    },
    // Read by the device's root-owned advertise helper when the unit starts (mDNS).
    // Xen guests have their own address and nothing is forwarded on dom0: announcing dom0's
    // port would send clients where nothing listens, so they are not announced (yet).
    {
      path: `${appDir}/advertise`,
      content: advertiseFile(spec.name, spec.target.startsWith('xen-') ? [] : spec.ports),
      mode: '0644',
    },
    ...deps.launcher.files(hypervisor, input),
  ];
  for (const file of files) {
    const temp = `${file.path}.hearth-new`;
    await session.writeFile(temp, file.content, Number.parseInt(file.mode, 8));
    await run(
      session,
      `chmod ${file.mode} ${temp} && mv -f ${temp} ${file.path}`,
      'save its settings',
      signal,
    );
  }
  await run(
    session,
    `cd ${appDir} && ln -sfn images/${spec.sha256} current.new && mv -T current.new current`,
    'switch to the new version',
    signal,
  );
}
