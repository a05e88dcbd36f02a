// Which restic Hearth runs: the one bundled with the app when the shell passes its path, else
// the owner's own restic on PATH. PATH is searched here rather than by the shell so that
// "not installed" is known before a backup starts, as RESTIC_MISSING, not as a spawn error
// in the middle of a run.
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { HearthError } from '../../../shared/errors';

async function isExecutableFile(file: string, platform: NodeJS.Platform): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    // Windows has no execute bit; existing is what counts there.
    await access(file, platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface FindResticOptions {
  /** The restic shipped inside the app's resources, when there is one. If that file is
   *  missing (a damaged install), the owner's own restic on PATH is used instead. */
  bundled?: string;
  /** Defaults to process.env.PATH. */
  pathEnv?: string;
  /** Defaults to process.platform. */
  platform?: NodeJS.Platform;
}

export async function findRestic(o: FindResticOptions = {}): Promise<string> {
  const platform = o.platform ?? process.platform;
  if (o.bundled && (await isExecutableFile(o.bundled, platform))) return o.bundled;
  const name = platform === 'win32' ? 'restic.exe' : 'restic';
  const delimiter = platform === 'win32' ? ';' : ':';
  for (const dir of (o.pathEnv ?? process.env.PATH ?? '').split(delimiter)) {
    // An empty PATH entry means the current directory; never run a restic from there.
    if (!dir || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    if (await isExecutableFile(candidate, platform)) return candidate;
  }
  throw new HearthError('RESTIC_MISSING');
}
