// The e2e specs' app catalog: the lab's real test unikernels (the counter kernel, and the
// busybox microVM with its visit counter, and an app built only for Solo5's tenders), signed with a throwaway key that only the
// browser-mode server started for these specs trusts, served from the laptop side. A spec can
// publish a newer signed index with more versions of Counter (the lab's kernels v1, v2, v3),
// and serve an older signed text again (a replay).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { makeTestKey, sha256Of, signedText } from '../../electron/services/catalog/test-catalog';
import { buildCounterKernels } from '../lab/counter-kernel';
import type { CounterVersion } from '../lab/counter-kernel';
import type { Lab } from '../lab/fixture';
import { buildWebApp } from '../lab/web-app';

/** One release of Counter in a published index: its version, built from kernel v1, v2 or v3. */
export interface CounterRelease {
  version: string;
  kernel: CounterVersion;
  releaseNotes?: string;
}

export interface TestCatalog {
  url: string;
  /** `--trust-catalog-key` value for browser mode. */
  trustedKey: string;
  /** Where a wrong image can be put to prove tampering is refused. */
  dir: string;
  /** The signed text served from the start: Counter 1.0.0 only. */
  readonly original: string;
  /**
   * Signs and serves an index stamped later than any served before, with Counter in these
   * releases (everything else as at the start). Returns the signed text, for a later replay.
   */
  publish(counter: CounterRelease[]): string;
  /** Serves a signed text as it is, e.g. an older one again (a replayed catalog). */
  serve(text: string): void;
  /** Serves the original index again, for the specs that follow in this worker. */
  restore(): void;
  stop(): Promise<void>;
}

function fileRef(dir: string, name: string, source: string) {
  copyFileSync(source, join(dir, name));
  const bytes = readFileSync(source);
  return { name, size: bytes.length, sha256: sha256Of(bytes) };
}

export async function startTestCatalog(
  lab: Lab,
  options: {
    /** Visit counters in the catalog (default 1: Visit counter alone). */ visitCounters?: number;
  } = {},
): Promise<TestCatalog> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-catalog-'));
  const kernels = await buildCounterKernels();
  const web = await buildWebApp();
  const counter = fileRef(dir, 'counter-v1.elf', kernels[1]);
  const counterV2 = fileRef(dir, 'counter-v2.elf', kernels[2]);
  const counterKernels: Record<CounterVersion, typeof counter> = {
    1: counter,
    2: counterV2,
    3: fileRef(dir, 'counter-v3.elf', kernels[3]),
  };
  const webKernel = fileRef(dir, 'web-vmlinuz', web.kernel);
  const webInitrd = fileRef(dir, 'web-initrd.gz', web.initrd);

  const argv = lab.laptopArgv([
    process.execPath,
    '--import',
    'tsx',
    join(import.meta.dirname, 'static-server.ts'),
    dir,
  ]);
  const server: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: server.stdout! }).once('line', (line) =>
      resolve((JSON.parse(line) as { port: number }).port),
    );
    server.once('exit', () => reject(new Error('the catalog server did not start')));
  });
  const base = `http://127.0.0.1:${port}`;
  const art = (f: { name: string; size: number; sha256: string }) => ({
    url: `${base}/${f.name}`,
    size: f.size,
    sha256: f.sha256,
  });
  const counterBuild = (release: CounterRelease, bootArgs: string) => ({
    version: release.version,
    artifacts: { 'qemu-x86_64': { ...art(counterKernels[release.kernel]), disk: 'ide' } },
    resources: {
      memoryMiB: 32,
      volumes: [{ name: 'data', sizeMiB: 1 }],
      ports: [],
      bootArgs,
      health: { kind: 'console', pattern: 'READY' },
    },
    ...(release.releaseNotes === undefined ? {} : { releaseNotes: release.releaseNotes }),
  });
  const counterApp = (
    id: string,
    name: string,
    bootArgs: string,
    summary: string,
    releases: CounterRelease[] = [{ version: '1.0.0', kernel: 1 }],
  ) => ({
    id,
    name,
    summary,
    description: `${summary} Built from the lab's test kernel: it counts its boots on its own disk.`,
    versions: releases.map((release) => counterBuild(release, bootArgs)),
  });
  // Visit counter, and for the sleep bench (options.visitCounters) copies of it under ids and
  // ports of their own: visits-2 on 8082, visits-3 on 8083, ...
  const visitsApp = (n: number) => ({
    id: n === 1 ? 'visits' : `visits-${n}`,
    name: n === 1 ? 'Visit counter' : `Visit counter ${n}`,
    summary: 'A small web page that counts its visitors.',
    description: 'Serves a web page on your home network and remembers how many visits it had.',
    versions: [
      {
        version: '1.0.0',
        artifacts: {
          'qemu-x86_64': { ...art(webKernel), disk: 'virtio', initrd: art(webInitrd) },
        },
        resources: {
          memoryMiB: 256,
          volumes: [{ name: 'data', sizeMiB: 16 }],
          ports: [
            {
              name: 'web',
              guest: 80,
              host: n === 1 ? 8080 : 8080 + n,
              protocol: 'tcp',
              service: '_http._tcp',
              path: '/',
            },
          ],
          bootArgs: web.append,
          health: { kind: 'http', port: 80, path: '/' },
        },
      },
    ],
  });
  const visitCounters = Array.from({ length: Math.max(1, options.visitCounters ?? 1) }, (_, i) =>
    visitsApp(i + 1),
  );
  const indexWith = (counterReleases: CounterRelease[] | undefined, updated: Date) => ({
    format: 'hearth-catalog/1',
    name: 'Lab apps',
    updated: updated.toISOString(),
    apps: [
      counterApp('counter', 'Counter', '', 'Counts how often it has started.', counterReleases),
      counterApp('crasher', 'Crasher', 'crash', 'Starts, then stops with an error, every time.'),
      // Tampered: the catalog promises v2's hash, the server hands out v1's bytes.
      {
        ...counterApp(
          'tampered',
          'Tampered',
          '',
          'Its download does not match what the catalog promises.',
        ),
        versions: [
          {
            ...counterApp('tampered', 'Tampered', '', '').versions[0]!,
            artifacts: {
              'qemu-x86_64': {
                ...art(counter),
                sha256: counterV2.sha256,
                size: counter.size,
                disk: 'ide',
              },
            },
          },
        ],
      },
      // Built only for Solo5's tenders, which no lab device has (they are not in Debian): its
      // card must say it cannot run there, and it is never downloaded.
      {
        id: 'resolver',
        name: 'Tender resolver',
        summary: 'A DNS resolver built for Solo5 tenders only.',
        description: 'Answers name lookups for your home network; it starts in milliseconds.',
        versions: [
          {
            version: '1.0.0',
            artifacts: {
              'spt-x86_64': { ...art(counter), disk: 'virtio' },
              'hvt-x86_64': { ...art(counter), disk: 'virtio' },
            },
            resources: {
              memoryMiB: 32,
              volumes: [],
              ports: [{ name: 'dns', guest: 53, host: 5353, protocol: 'udp' }],
              bootArgs: '',
              health: { kind: 'console', pattern: 'ready' },
            },
          },
        ],
      },
      ...visitCounters,
    ],
  });
  const key = makeTestKey();
  let lastUpdated = Date.now();
  const original = signedText(indexWith(undefined, new Date(lastUpdated)), key);
  const serve = (text: string) => writeFileSync(join(dir, 'catalog.json'), text);
  serve(original);
  return {
    url: `${base}/catalog.json`,
    trustedKey: `${key.trusted.keyId}=${key.trusted.publicKey}`,
    dir,
    original,
    publish: (counterReleases) => {
      // Strictly later than anything served before, however fast a spec publishes.
      lastUpdated = Math.max(Date.now(), lastUpdated + 1000);
      const text = signedText(indexWith(counterReleases, new Date(lastUpdated)), key);
      serve(text);
      return text;
    },
    serve,
    restore: () => serve(original),
    stop: async () => {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
