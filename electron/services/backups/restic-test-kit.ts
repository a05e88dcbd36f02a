// Temp repositories for the tests that run the real restic (/usr/bin/restic on the lab
// machines). Each test gets its own folder; nothing is shared between tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { spawn as nodeSpawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { Restic } from './restic';
import type { ResticOptions } from './restic';
import type { SpawnFn } from './restic-process';

export const RESTIC_BINARY = process.env.HEARTH_TEST_RESTIC ?? '/usr/bin/restic';
export const TEST_PASSWORD = 'correct-horse-battery-staple-4242';

export interface TestRepo {
  dir: string;
  repository: string;
  restic: Restic;
  /** Every child restic started through `restic`, with its argv. */
  children: { args: string[]; env: NodeJS.ProcessEnv; child: ChildProcess }[];
  make(o?: Partial<ResticOptions>): Restic;
  cleanup(): Promise<void>;
}

export async function makeTestRepo(o: { init?: boolean } = {}): Promise<TestRepo> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-restic-'));
  const repository = path.join(dir, 'repo');
  const children: TestRepo['children'] = [];
  const spawn = ((command: string, args: string[], options: { env: NodeJS.ProcessEnv }) => {
    const child = nodeSpawn(command, args, options);
    children.push({ args, env: options.env, child });
    return child;
  }) as unknown as SpawnFn;
  const make = (extra: Partial<ResticOptions> = {}) =>
    new Restic({
      binary: RESTIC_BINARY,
      repository,
      password: TEST_PASSWORD,
      cacheDir: path.join(dir, 'cache'),
      spawn,
      ...extra,
    });
  const restic = make();
  if (o.init !== false) await restic.init();
  return {
    dir,
    repository,
    restic,
    children,
    make,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** `size` random bytes in 64 KiB chunks, then a clean end. */
export function randomStream(size: number, chunk = 64 * 1024): { stream: Readable; data: Buffer } {
  const data = randomBytes(size);
  let offset = 0;
  const stream = new Readable({
    read() {
      if (offset >= size) return void this.push(null);
      this.push(data.subarray(offset, offset + chunk));
      offset += chunk;
    },
  });
  return { stream, data };
}

/** Gives `size` bytes, then stays open (a device that has gone quiet) until `end()`. */
export function stallingStream(size: number): { stream: Readable; end(): void } {
  let sent = false;
  const stream = new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(randomBytes(size));
      }
    },
  });
  return { stream, end: () => stream.push(null) };
}
