// The laptop's side of the device's update script (update-step-script.ts): one function per
// step, each one remote command, and the device's answer read strictly. The transaction
// (services/updates/update-transaction.ts) decides the order; this file only knows how to ask.
import { HearthError } from '../../../shared/errors';
import type { AppId } from '../../../shared/ids';
import { isAppId } from '../../../shared/ids';
import { deviceLayout } from './layout';
import type { ScriptOptions, ScriptSession } from './remote-script';
import { operationFailed, runOperation } from './remote-script';
import { BUSY_STATUS, DISK_FULL_STATUS } from './volume-scripts';

export type UpdatePhase =
  'staged' | 'snapshotted' | 'switched' | 'rolling-back' | 'committing' | 'going-back';
const phases: readonly string[] = [
  'staged',
  'snapshotted',
  'switched',
  'rolling-back',
  'committing',
  'going-back',
];

export type UpdateOutcomeKind = 'discarded' | 'committed' | 'rolled-back' | 'went-back';
const outcomes: readonly string[] = ['discarded', 'committed', 'rolled-back', 'went-back'];

/** What the device says about one app's updates. */
export interface DeviceUpdateStatus {
  /** A transaction in the state file, if one is there. */
  /** A transaction in the state file; `live` while its device-side watcher runs. */
  transaction: { id: string; from: string; to: string; phase: UpdatePhase; live: boolean } | null;
  /** The version an update replaced, while the device keeps it; and whether its data is kept. */
  previous: { version: string; hasData: boolean } | null;
  /** What the device (or Hearth) last settled without the owner being told yet. */
  last: { outcome: UpdateOutcomeKind; id: string; at: number; by: 'device' | 'hearth' } | null;
}

const SHA = /^[0-9a-f]{64}$/;
/** An update id: also a word of the device's script. */
export const UPDATE_ID = /^[a-z0-9][a-z0-9.-]{0,63}$/;

function checkedApp(appId: AppId): AppId {
  if (!isAppId(appId)) throw new Error(`not an app id: ${JSON.stringify(appId)}`);
  return appId;
}

async function step(
  session: ScriptSession,
  verb: string,
  appId: AppId,
  args: string[],
  what: string,
  options: ScriptOptions = {},
): Promise<string> {
  const words = [verb, checkedApp(appId), ...args];
  const result = await runOperation(
    session,
    'update-step',
    words,
    `exec ${deviceLayout.updateStep} ${words.join(' ')}`,
    { timeoutMs: 10 * 60_000, ...options },
  );
  if (result.code === 0) return result.stdout.trim();
  if (result.code === BUSY_STATUS) throw new HearthError('BACKUP_BUSY');
  if (result.code === DISK_FULL_STATUS || /hearth: disk-full/.test(result.stderr))
    throw new HearthError('UPDATE_DISK_FULL');
  if (/not found|No such file/.test(result.stderr) && result.code === 127)
    throw new HearthError('DEVICE_NEEDS_PREPARING');
  throw operationFailed(what, result);
}

/** Starts a transaction to the image `toSha` (already in images/); returns the current one. */
export async function beginUpdate(
  session: ScriptSession,
  appId: AppId,
  id: string,
  toSha: string,
  options: ScriptOptions = {},
): Promise<{ fromSha: string }> {
  if (!UPDATE_ID.test(id) || !SHA.test(toSha)) throw new Error('not an update id or an image');
  const out = await step(session, 'begin', appId, [id, toSha], 'begin the update', options);
  const from = /^from ([0-9a-f]{64})$/m.exec(out)?.[1];
  if (!from) throw new HearthError('DEVICE_GARBLED');
  return { fromSha: from };
}

/** Copies the stopped app's files and volumes aside (UPDATE_DISK_FULL when they do not fit). */
export async function snapshotForUpdate(
  session: ScriptSession,
  appId: AppId,
  options: ScriptOptions = {},
): Promise<void> {
  await step(session, 'snapshot', appId, [], 'keep a copy of its data', options);
}

export async function switchUpdate(
  session: ScriptSession,
  appId: AppId,
  options: ScriptOptions = {},
): Promise<void> {
  await step(session, 'switch', appId, [], 'switch to the new version', options);
}

export async function commitUpdate(
  session: ScriptSession,
  appId: AppId,
  options: ScriptOptions = {},
): Promise<void> {
  await step(session, 'commit', appId, [], 'keep the new version', options);
}

/** Puts the old version and its data back (the app must be stopped); says what it did. */
export async function rollBackUpdate(
  session: ScriptSession,
  appId: AppId,
  options: ScriptOptions = {},
): Promise<'none' | 'discarded' | 'rolled-back' | 'committed' | 'went-back'> {
  const out = await step(session, 'rollback', appId, [], 'go back to the version before', options);
  return settled(out);
}

/** Settles a transaction nobody drives any more, as the device would at boot. */
export async function recoverUpdate(
  session: ScriptSession,
  appId: AppId,
  options: ScriptOptions = {},
): Promise<'none' | 'discarded' | 'rolled-back' | 'committed' | 'went-back'> {
  const out = await step(session, 'recover', appId, ['now'], 'finish an earlier update', options);
  return settled(out);
}

function settled(out: string) {
  const word = out.split('\n').pop() ?? '';
  if (word === 'none' || outcomes.includes(word))
    return word as 'none' | 'discarded' | 'rolled-back' | 'committed' | 'went-back';
  throw new HearthError('DEVICE_GARBLED');
}

/** Back to the kept previous version (the app must be stopped), with its old data or today's. */
export async function goBackUpdate(
  session: ScriptSession,
  appId: AppId,
  data: 'now' | 'before',
  id: string,
  options: ScriptOptions = {},
): Promise<void> {
  if (!UPDATE_ID.test(id)) throw new Error('not an update id');
  await step(session, 'goback', appId, [data, id], 'go back to the previous version', options);
}

/** The owner has been told of the last outcome: the device forgets it. */
export async function forgetUpdateOutcome(
  session: ScriptSession,
  appId: AppId,
  options: ScriptOptions = {},
): Promise<void> {
  await step(session, 'told', appId, [], 'save its state', options);
}

export async function updateStatus(
  session: ScriptSession,
  appId: AppId,
  options: ScriptOptions = {},
): Promise<DeviceUpdateStatus> {
  return parseUpdateStatus(
    await step(session, 'status', appId, [], 'read its update state', {
      timeoutMs: 30_000,
      ...options,
    }),
  );
}

export function parseUpdateStatus(out: string): DeviceUpdateStatus {
  const f = new Map<string, string>();
  for (const line of out.split('\n')) {
    const at = line.indexOf(' ');
    if (at > 0 && !f.has(line.slice(0, at))) f.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  let transaction: DeviceUpdateStatus['transaction'] = null;
  if (f.has('update-phase')) {
    const phase = f.get('update-phase') ?? '';
    if (!phases.includes(phase)) throw new HearthError('DEVICE_GARBLED');
    transaction = {
      id: f.get('update-id') ?? '',
      from: f.get('update-from') ?? '',
      to: f.get('update-to') ?? '',
      phase: phase as UpdatePhase,
      live: f.get('update-live') === 'yes',
    };
  }
  const version = f.get('previous-version');
  const previous =
    version && /^[0-9A-Za-z.+-]{1,64}$/.test(version)
      ? { version, hasData: f.get('previous-data') === 'yes' }
      : null;
  let last: DeviceUpdateStatus['last'] = null;
  const outcome = f.get('last-outcome') ?? '';
  if (outcomes.includes(outcome)) {
    const at = Number(f.get('last-at'));
    last = {
      outcome: outcome as UpdateOutcomeKind,
      id: f.get('last-id') ?? '',
      at: Number.isSafeInteger(at) ? at * 1000 : 0,
      by: f.get('last-by') === 'device' ? 'device' : 'hearth',
    };
  }
  return { transaction, previous, last };
}
