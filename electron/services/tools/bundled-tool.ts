// Where Hearth finds a program it runs on this computer (restic today): the copy the installer
// put in the app's resources first, the owner's own on PATH second. PATH is searched here
// rather than by spawn so that "not installed" is known before the work starts, as the
// tool's error code, not as a spawn error in the middle of a run.
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { HearthError } from '../../../shared/errors';
import type { ErrorCode } from '../../../shared/errors';

/** The folder in the app's resources that electron-builder's extraResources fill. */
export const BUNDLED_TOOLS_DIR = 'bin';

/** The file name of a tool on a platform (Windows programs end in .exe). */
export function toolFileName(tool: string, platform: NodeJS.Platform): string {
  return platform === 'win32' ? `${tool}.exe` : tool;
}

/** Where the installer puts a tool: <resources>/bin/<tool>[.exe]. */
export function bundledToolPath(
  resourcesDir: string,
  tool: string,
  platform: NodeJS.Platform = process.platform,
): string {
  return path.join(resourcesDir, BUNDLED_TOOLS_DIR, toolFileName(tool, platform));
}

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

export interface FindToolOptions {
  tool: string;
  /** The sentence the owner reads when neither copy exists. */
  missing: ErrorCode;
  /** The copy shipped inside the app's resources, when there is one. If that file is
   *  missing (a damaged install), the owner's own copy on PATH is used instead. */
  bundled?: string;
  /** Defaults to process.env.PATH. */
  pathEnv?: string;
  /** Defaults to process.platform. */
  platform?: NodeJS.Platform;
}

export async function findTool(o: FindToolOptions): Promise<string> {
  const platform = o.platform ?? process.platform;
  if (o.bundled && (await isExecutableFile(o.bundled, platform))) return o.bundled;
  const name = toolFileName(o.tool, platform);
  const delimiter = platform === 'win32' ? ';' : ':';
  for (const dir of (o.pathEnv ?? process.env.PATH ?? '').split(delimiter)) {
    // An empty PATH entry means the current directory; never run a tool from there.
    if (!dir || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    if (await isExecutableFile(candidate, platform)) return candidate;
  }
  throw new HearthError(o.missing);
}
