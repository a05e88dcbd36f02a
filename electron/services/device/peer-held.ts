// The copies other devices keep on this one ("a copy on the Kitchen Pi"), read through THIS
// device: when the device they came from is dead (its SD card died), this is the only way to
// them. The root agent's peer-snapshots and peer-dump (agent-protocol.ts) run restic on each
// source's repository as that source's own account; the password (the laptop's, from its key
// vault) goes on stdin, never on a command line. What a source wrote is checked here again: a
// snapshot counts only as the source device whose account holds it.
import { Readable } from 'node:stream';
import { HearthError } from '../../../shared/errors';
import { isDeviceId } from '../../../shared/ids';
import type { BackupPoint } from '../../../shared/model';
import { TAR_PATH, toPoint } from '../backups/backup-points';
import type { Restic } from '../backups/restic';
import type { SshSession } from '../ssh/ssh-session';
import {
  PEER_HELD_LINE,
  SNAPSHOT_ID,
  agentPeerDumpCommand,
  agentPeerSnapshotsCommand,
} from './agent-protocol';
import { peerAccount } from './layout';
import { operationCommand, operationFailed } from './remote-script';

export interface HeldCopies {
  /** Newest first; `deviceId` is the device each was taken on. */
  points: BackupPoint[];
  /** Source accounts whose copies the password did not open (another household's Hearth). */
  unreadable: string[];
}

/** Parses peer-snapshots' lines strictly; a line that is not one is the device garbling. */
export function parseHeldCopies(stdout: string): HeldCopies {
  const points: BackupPoint[] = [];
  const unreadable: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const m = PEER_HELD_LINE.exec(line);
    if (!m) throw new HearthError('DEVICE_GARBLED');
    const account = m[1] as string;
    if (m[3]) {
      unreadable.push(account);
      continue;
    }
    let list: unknown;
    try {
      list = JSON.parse(m[2] as string);
    } catch {
      throw new HearthError('DEVICE_GARBLED');
    }
    if (!Array.isArray(list)) throw new HearthError('DEVICE_GARBLED');
    for (const s of list as Record<string, unknown>[]) {
      const host = typeof s.hostname === 'string' ? s.hostname : '';
      const time = typeof s.time === 'string' ? Date.parse(s.time) : Number.NaN;
      const id = typeof s.id === 'string' ? s.id : '';
      const paths = Array.isArray(s.paths) ? s.paths.filter((p) => typeof p === 'string') : [];
      const tags = Array.isArray(s.tags) ? s.tags.filter((t) => typeof t === 'string') : [];
      // Only the account's own device's snapshots: a source cannot pass off another's.
      if (!isDeviceId(host) || peerAccount(host) !== account) continue;
      if (!/^[0-9a-f]{64}$/.test(id) || !Number.isFinite(time)) continue;
      const point = toPoint({ id, time, host, paths, tags });
      if (point) points.push(point);
    }
  }
  return { points: points.sort((a, b) => b.takenAt - a.takenAt), unreadable };
}

function heldFailure(stderr: string): HearthError {
  if (/not a verb Hearth knows|usage: agent VERB/i.test(stderr))
    return new HearthError('DEVICE_NEEDS_PREPARING');
  if (/wrong password/i.test(stderr)) return new HearthError('BACKUP_WRONG_PASSWORD');
  return operationFailed('read the backups it keeps for other devices', { stderr });
}

/** Every copy other devices keep on `target`, as points to restore. */
export async function listHeldCopies(
  target: Pick<SshSession, 'exec'>,
  password: string,
  options: { signal?: AbortSignal } = {},
): Promise<HeldCopies> {
  const out = await target.exec(operationCommand('peer-held', [], agentPeerSnapshotsCommand()), {
    stdin: `${password}\n`,
    timeoutMs: 120_000,
    maxOutputBytes: 16 * 1024 * 1024,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (out.code !== 0) throw heldFailure(out.stderr);
  return parseHeldCopies(out.stdout);
}

/**
 * restic's `dump` as restore-run.ts uses it (Restic.dump's shape), for copies of `sourceId`
 * kept on `target`: the tar comes out of the target's agent over SSH, at the pace `output` takes
 * it. On success `output` is ended; on failure it is destroyed with the error.
 */
export function heldCopyDumper(
  target: Pick<SshSession, 'execStream'>,
  sourceId: string,
  password: string,
): Pick<Restic, 'dump'> {
  return {
    dump: async (snapshotId, file, output, o = {}) => {
      const appId = TAR_PATH.exec(file)?.[1];
      if (!appId || !SNAPSHOT_ID.test(snapshotId)) throw new Error('not a snapshot of an app');
      const command = operationCommand(
        'peer-held-dump',
        [appId, snapshotId],
        agentPeerDumpCommand(sourceId, appId, snapshotId),
      );
      const run = target.execStream(command, {
        stdin: Readable.from([`${password}\n`]),
        // The target reads the repository from its disk: minutes of silence mean it is stuck.
        idleTimeoutMs: 5 * 60_000,
        ...(o.signal ? { signal: o.signal } : {}),
      });
      run.stdout.pipe(output, { end: false });
      let result: Awaited<typeof run.done>;
      try {
        result = await run.done;
      } catch (error) {
        output.destroy(error as Error);
        throw error;
      }
      if (result.code !== 0) {
        const error = heldFailure(result.stderr);
        output.destroy(error);
        throw error;
      }
      await new Promise<void>((resolve, reject) => {
        run.stdout.once('end', resolve);
        if (run.stdout.readableEnded) resolve();
        run.stdout.once('error', reject);
      });
      await new Promise<void>((resolve, reject) => {
        output.once('error', reject);
        output.end(() => resolve());
      });
    },
  };
}
