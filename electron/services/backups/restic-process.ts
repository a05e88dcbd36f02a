// Starting one restic command. The repository and its password reach restic through the
// child's environment only, never argv (argv is visible to every user of the machine in `ps`,
// and a rest: or s3: repository string can carry credentials too).
import { spawn as nodeSpawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export type SpawnFn = typeof nodeSpawn;

export interface ResticTarget {
  binary: string;
  repository: string;
  password: string;
  cacheDir?: string;
}

/** How long a stopped restic gets to clean up (remove its lock) before it is killed. */
export const STOP_GRACE_MS = 5000;

/**
 * The child's environment: the parent's, less every RESTIC_* variable (an owner's own
 * RESTIC_PASSWORD_FILE or RESTIC_REPOSITORY must not redirect Hearth's run), plus ours.
 * Progress is throttled: in --json mode restic 0.14 otherwise prints ~60 status lines a second
 * even into a pipe.
 */
export function resticEnv(
  target: ResticTarget,
  base: NodeJS.ProcessEnv = process.env,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base))
    if (!key.toUpperCase().startsWith('RESTIC_') && value !== undefined) env[key] = value;
  env.RESTIC_REPOSITORY = target.repository;
  env.RESTIC_PASSWORD = target.password;
  env.RESTIC_PROGRESS_FPS = '2';
  if (target.cacheDir) env.RESTIC_CACHE_DIR = target.cacheDir;
  return { ...env, ...extra };
}

export interface ResticExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The tail of stderr (for the log and for classifying the failure). */
  stderr: string;
  /** Set when restic could not be started at all (ENOENT, EACCES). */
  spawnError?: Error;
}

export interface ResticChild {
  child: ChildProcess;
  exited: Promise<ResticExit>;
  /** SIGINT (restic removes its lock and exits), then SIGKILL after the grace period. */
  stop(): void;
}

const STDERR_KEEP = 64 * 1024;

export function startRestic(o: {
  spawn?: SpawnFn;
  target: ResticTarget;
  args: string[];
  stdin: 'pipe' | 'ignore';
  extraEnv?: Record<string, string>;
  stopGraceMs?: number;
}): ResticChild {
  const spawn = o.spawn ?? nodeSpawn;
  let stderr = '';
  let spawnError: Error | undefined;
  let done = false;
  let killTimer: NodeJS.Timeout | undefined;
  const child = spawn(o.target.binary, o.args, {
    env: resticEnv(o.target, process.env, o.extraEnv),
    stdio: [o.stdin, 'pipe', 'pipe'],
    windowsHide: true,
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  // restic exiting early breaks the pipe; what happened is told by its exit, not by EPIPE.
  child.stdin?.on('error', () => {});
  const exited = new Promise<ResticExit>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      // 'close' does not always follow a failed spawn.
      if (child.pid === undefined) finish(null, null);
    });
    child.once('close', (code, signal) => finish(code, signal));
    function finish(code: number | null, signal: NodeJS.Signals | null) {
      if (done) return;
      done = true;
      if (killTimer) clearTimeout(killTimer);
      resolve({ code, signal, stderr, spawnError });
    }
  });
  return {
    child,
    exited,
    stop() {
      if (done || killTimer) return;
      // (On Windows there is no SIGINT to send: Node terminates the process, which leaves its
      // lock behind for unlockStale() to clear on the next run, as after any crash.)
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), o.stopGraceMs ?? STOP_GRACE_MS);
    },
  };
}

/** Calls onLine for each complete line of a text stream. */
export function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) onLine(line);
  });
  stream.on('end', () => {
    if (rest.trim()) onLine(rest);
    rest = '';
  });
}
