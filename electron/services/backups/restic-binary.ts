// Which restic Hearth runs: the one bundled with the app when the shell passes its path, else
// the owner's own restic on PATH, else RESTIC_MISSING before a backup starts.
import { findTool } from '../tools/bundled-tool';
import type { FindToolOptions } from '../tools/bundled-tool';

export type FindResticOptions = Omit<FindToolOptions, 'tool' | 'missing'>;

export function findRestic(o: FindResticOptions = {}): Promise<string> {
  return findTool({ ...o, tool: 'restic', missing: 'RESTIC_MISSING' });
}
