// The add-device wizard: find a device, confirm its identity, sign in, watch it being
// prepared, name it. One instance per visit to the wizard, so nothing outlives it.
// Passwords never live here: the sign-in form holds them until it hands them to
// provisioning:start, then clears them.
import type { ErrorCode } from '../../../shared/errors';
import type { HearthApi } from '../../../shared/hearth-api';
import type {
  DeviceIdentity,
  DeviceRecord,
  DiscoveredDevice,
  TaskSnapshot,
} from '../../../shared/model';
import type { DevicesState } from './devices.svelte';
import type { NoticesState } from './notices.svelte';
import type { TasksState } from './tasks.svelte';

export type WizardStep = 'find' | 'confirm' | 'sign-in' | 'preparing' | 'name' | 'done';

/** What the sign-in form sends, as the owner typed it. */
export interface SignInValues {
  username: string;
  password: string;
  /** Only when the owner said the device uses a different administrator password. */
  sudoPassword?: string;
  allowInstall: boolean;
}

/** Failures after which trying again cannot help: the device is not the one confirmed. */
const refusals: readonly ErrorCode[] = ['HOST_KEY_CHANGED', 'IMPERSONATION', 'DEVICE_ID_TAKEN'];

const ipv4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** The address to reach a found device at: an IPv4 address, else its .local name. */
export function addressOf(device: DiscoveredDevice): string | null {
  return (
    device.addresses.find((a) => ipv4.test(a)) ?? device.hostnames[0] ?? device.addresses[0] ?? null
  );
}

export function looksLikeRaspberryPi(device: DiscoveredDevice | null): boolean {
  return device !== null && /raspberry\s*pi/i.test(device.description);
}

export class WizardState {
  readonly #api: HearthApi;
  readonly #tasks: TasksState;
  readonly #devices: DevicesState;
  readonly #notices: NoticesState;
  #unsubscribe: (() => void) | null = null;

  step = $state<WizardStep>('find');
  /** Bumped on every step change, so the new step's heading takes focus. */
  moves = $state(0);

  /** The live list of devices on the network. */
  found = $state.raw<readonly DiscoveredDevice[]>([]);
  /** discovery:list has answered. */
  listening = $state(false);
  /** A request is on its way; its buttons wait. */
  busy = $state<'identify' | 'address' | 'scan' | 'start' | 'rename' | null>(null);
  scanTaskId = $state<string | null>(null);

  chosen = $state.raw<DiscoveredDevice | null>(null);
  identity = $state.raw<DeviceIdentity | null>(null);

  // What the sign-in form starts with (never a password).
  username = $state('');
  useSudoPassword = $state(false);
  allowInstall = $state(false);
  /** The owner is signing in again after a failed run: they retype the password. */
  retrying = $state(false);

  provisionTaskId = $state<string | null>(null);
  /** The prepared device's name once saved. */
  readyName = $state('');

  readonly scanTask: TaskSnapshot | null = $derived(this.#taskById(this.scanTaskId));
  readonly provisionTask: TaskSnapshot | null = $derived(this.#taskById(this.provisionTaskId));
  /**
   * The identity changed since Hearth last saw this device, or it borrows a known device's
   * name with another identity: no way forward with it (so no password is ever asked for).
   */
  readonly identityChanged = $derived(
    this.identity?.previousFingerprint != null || this.identity?.impersonates != null,
  );
  /** How the preparing run failed, if it did. */
  readonly failure = $derived(
    this.provisionTask?.state === 'failed' ? this.provisionTask.error : null,
  );
  /** Preparing was refused because the device is not the one it claims to be. */
  readonly refused = $derived(this.failure !== null && refusals.includes(this.failure.code));
  /** Preparing ended in a way that trying again could fix (failed or cancelled). */
  readonly canRetry = $derived(
    (this.provisionTask?.state === 'failed' || this.provisionTask?.state === 'cancelled') &&
      !this.refused,
  );
  /** The device record the finished run added: Hearth knows it by the confirmed key. */
  readonly record: DeviceRecord | null = $derived.by(() =>
    this.identity ? (this.#devices.byFingerprint(this.identity.fingerprint) ?? null) : null,
  );

  constructor(api: HearthApi, tasks: TasksState, devices: DevicesState, notices: NoticesState) {
    this.#api = api;
    this.#tasks = tasks;
    this.#devices = devices;
    this.#notices = notices;
  }

  /** Starts listening for devices on the network. */
  async start(): Promise<void> {
    this.#unsubscribe ??= this.#api.on('discovery:changed', (devices) => {
      this.found = devices;
      this.listening = true;
    });
    try {
      this.found = await this.#api.discovery.list();
    } catch (error) {
      this.#notices.report(error);
    } finally {
      this.listening = true;
    }
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /** Learns the chosen device's identity, for the owner to confirm. */
  async choose(device: DiscoveredDevice): Promise<void> {
    const address = addressOf(device);
    if (address === null || this.busy) return;
    this.busy = 'identify';
    this.chosen = device;
    try {
      this.identity = await this.#api.provisioning.identify({
        address,
        port: device.sshPort ?? 22,
      });
      this.username = looksLikeRaspberryPi(device) ? 'pi' : '';
      this.useSudoPassword = false;
      this.allowInstall = false;
      this.retrying = false;
      this.#go('confirm');
    } catch (error) {
      this.#notices.report(error);
    } finally {
      this.busy = null;
    }
  }

  /** "Enter an address": looks the device up and, when found, chooses it directly. */
  async lookUp(address: string, sshPort?: number): Promise<void> {
    const trimmed = address.trim();
    if (!trimmed || this.busy) return;
    this.busy = 'address';
    let device: DiscoveredDevice;
    try {
      device = await this.#api.discovery.addByAddress({ address: trimmed });
    } catch (error) {
      this.#notices.report(error);
      return;
    } finally {
      this.busy = null;
    }
    await this.choose(sshPort === undefined ? device : { ...device, sshPort });
  }

  /**
   * "Prepare again" on a device Hearth already looks after: the same steps as adding it (its
   * identity confirmed, the owner's password once), at the address it was last reached at.
   */
  async prepareAgain(device: DeviceRecord): Promise<void> {
    await this.lookUp(device.addresses[0] ?? `${device.hostname}.local`, device.sshPort);
  }

  /** "Search this network": a task with progress; what it finds joins the live list. */
  async scan(): Promise<void> {
    if (this.busy || this.scanTask?.state === 'running') return;
    this.busy = 'scan';
    try {
      const { taskId } = await this.#api.discovery.scan();
      this.scanTaskId = taskId;
      await this.#tasks.refresh();
    } catch (error) {
      this.#notices.report(error);
    } finally {
      this.busy = null;
    }
  }

  cancelTask(id: string): void {
    void this.#tasks.cancel(id);
  }

  /** "Yes, this is my device". */
  confirm(): void {
    if (this.identity && !this.identityChanged) this.#go('sign-in');
  }

  /** Back to the list of devices, forgetting the one chosen. */
  startOver(): void {
    this.chosen = null;
    this.identity = null;
    this.provisionTaskId = null;
    this.#go('find');
  }

  backToConfirm(): void {
    this.#go('confirm');
  }

  /** Hands the typed values to provisioning:start; the password goes no further. */
  async prepare(values: SignInValues): Promise<void> {
    const identity = this.identity;
    if (!identity || this.identityChanged || this.busy) return;
    this.busy = 'start';
    this.username = values.username;
    this.allowInstall = values.allowInstall;
    try {
      const { taskId } = await this.#api.provisioning.start({
        address: identity.address,
        port: identity.port,
        fingerprint: identity.fingerprint,
        username: values.username,
        password: values.password,
        ...(values.sudoPassword === undefined ? {} : { sudoPassword: values.sudoPassword }),
        allowInstall: values.allowInstall,
      });
      this.provisionTaskId = taskId;
      this.#go('preparing');
      // The task's events are already arriving; the list also covers a missed first one.
      await this.#tasks.refresh();
    } catch (error) {
      this.#notices.report(error);
    } finally {
      this.busy = null;
    }
  }

  /** Called as the preparing task moves: on success, on to naming the device. */
  async settle(): Promise<void> {
    if (this.step !== 'preparing' || this.provisionTask?.state !== 'succeeded') return;
    // The finished run added the device; make sure the list has it before naming it.
    if (!this.record) await this.#devices.refresh();
    if (this.step === 'preparing') this.#go('name');
  }

  /**
   * This computer has no usable keyring: the owner agrees to keep Hearth's key protected
   * by file permissions only, then signs in again.
   */
  async allowUnprotectedKey(): Promise<void> {
    try {
      await this.#api.settings.update({ allowUnprotectedKey: true });
      this.tryAgain();
    } catch (error) {
      this.#notices.report(error);
    }
  }

  /** Back to sign in after a failure, ready for what the failure asked for. */
  tryAgain(): void {
    const code = this.failure?.code;
    if (code === 'NO_VIRTUALIZATION') this.allowInstall = true;
    if (code === 'SUDO_PASSWORD_NEEDED') this.useSudoPassword = true;
    this.retrying = true;
    this.provisionTaskId = null;
    this.#go('sign-in');
  }

  async saveName(name: string): Promise<void> {
    const record = this.record;
    const trimmed = name.trim();
    if (!record || !trimmed || this.busy) return;
    this.busy = 'rename';
    try {
      const renamed = await this.#devices.rename(record.id, trimmed);
      if (renamed) {
        this.readyName = renamed.name;
        this.#go('done');
      }
    } finally {
      this.busy = null;
    }
  }

  #go(step: WizardStep): void {
    this.step = step;
    this.moves++;
  }

  #taskById(id: string | null): TaskSnapshot | null {
    if (id === null) return null;
    return this.#tasks.list.find((task) => task.id === id) ?? null;
  }
}
