// The parts of restic's --json output Hearth reads, parsed strictly: a restic that answers
// something else (a newer format, a broken binary) is a failed run, never a crash or a
// half-understood snapshot list.
import { z } from 'zod';

const fullId = z.string().regex(/^[0-9a-f]{64}$/);
const rfc3339 = z
  .string()
  .transform((s) => Date.parse(s))
  .refine((ms) => Number.isFinite(ms), 'not a time');

export const snapshotJson = z.object({
  id: fullId,
  time: rfc3339,
  hostname: z.string(),
  paths: z.array(z.string()),
  // restic writes null (or nothing) for a snapshot without tags.
  tags: z.array(z.string()).nullish(),
});

export const snapshotsJson = z.array(snapshotJson);

export const backupStatusJson = z.object({
  message_type: z.literal('status'),
  bytes_done: z.number().nonnegative().optional(),
  seconds_elapsed: z.number().nonnegative().optional(),
});

export const backupSummaryJson = z.object({
  message_type: z.literal('summary'),
  // restic 0.14 prints the short id here; later releases the full one.
  snapshot_id: z.string().regex(/^[0-9a-f]{8,64}$/),
  data_added: z.number().nonnegative(),
  total_bytes_processed: z.number().nonnegative(),
});

export const forgetJson = z.array(
  z.object({
    remove: z.array(z.object({ id: fullId })).nullish(),
  }),
);

export const statsJson = z.object({
  total_size: z.number().nonnegative(),
  snapshots_count: z.number().int().nonnegative().optional(),
});

/** The first line of restic's stdout that parses as JSON (prune prints text after forget's). */
export function firstJsonLine(stdout: string, opener: '[' | '{'): unknown {
  for (const line of stdout.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith(opener)) continue;
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      continue;
    }
  }
  return undefined;
}
