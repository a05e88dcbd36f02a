// The e2e specs' app catalog: the lab's real test unikernels (the counter kernel, and the
// busybox microVM with its visit counter), signed with a throwaway key that only the
// browser-mode server started for these specs trusts, served from the laptop side.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { makeTestKey, sha256Of, signedText } from '../../electron/services/catalog/test-catalog';
import { buildCounterKernels } from '../lab/counter-kernel';
import type { Lab } from '../lab/fixture';
import { buildWebApp } from '../lab/web-app';

export interface TestCatalog {
  url: string;
  /** `--trust-catalog-key` value for browser mode. */
  trustedKey: string;
  /** Where a wrong image can be put to prove tampering is refused. */
  dir: string;
  stop(): Promise<void>;
}

function fileRef(dir: string, name: string, source: string) {
  copyFileSync(source, join(dir, name));
  const bytes = readFileSync(source);
  return { name, size: bytes.length, sha256: sha256Of(bytes) };
}

export async function startTestCatalog(lab: Lab): Promise<TestCatalog> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-catalog-'));
  const kernels = await buildCounterKernels();
  const web = await buildWebApp();
  const counter = fileRef(dir, 'counter-v1.elf', kernels[1]);
  const counterV2 = fileRef(dir, 'counter-v2.elf', kernels[2]);
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
  const counterApp = (id: string, name: string, bootArgs: string, summary: string) => ({
    id,
    name,
    summary,
    description: `${summary} Built from the lab's test kernel: it counts its boots on its own disk.`,
    versions: [
      {
        version: '1.0.0',
        artifacts: { 'qemu-x86_64': { ...art(counter), disk: 'ide' } },
        resources: {
          memoryMiB: 32,
          volumes: [{ name: 'data', sizeMiB: 1 }],
          ports: [],
          bootArgs,
          health: { kind: 'console', pattern: 'READY' },
        },
      },
    ],
  });
  const index = {
    format: 'hearth-catalog/1',
    name: 'Lab apps',
    updated: new Date().toISOString(),
    apps: [
      counterApp('counter', 'Counter', '', 'Counts how often it has started.'),
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
      {
        id: 'visits',
        name: 'Visit counter',
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
                  host: 8080,
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
      },
    ],
  };
  const key = makeTestKey();
  writeFileSync(join(dir, 'catalog.json'), signedText(index, key));
  return {
    url: `${base}/catalog.json`,
    trustedKey: `${key.trusted.keyId}=${key.trusted.publicKey}`,
    dir,
    stop: async () => {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
