import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { ArtifactCache } from './artifact-cache';
import { catalogAppViews, catalogPort } from './catalog-port';
import { CatalogService } from './catalog-service';
import { makeTestKey, sampleIndex, sha256Of, signedText, startTestServer } from './test-catalog';
import type { TestServer } from './test-catalog';

describe('catalog port and views', () => {
  const key = makeTestKey();
  let dir: string;
  let server: TestServer;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-port-'));
    server = await startTestServer();
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves and downloads for the apps service, naming the app when bytes are wrong', async () => {
    const image = Buffer.from('counter image bytes');
    server.routes.set('/c.elf', { body: image });
    const index = sampleIndex();
    const version = index.apps[0]!.versions[0]!;
    version.artifacts['qemu-x86_64'] = {
      url: `${server.origin}/c.elf`,
      size: image.length,
      sha256: sha256Of(image),
    };
    version.artifacts['hvt-x86_64'] = {
      url: `${server.origin}/c.elf`,
      size: image.length,
      sha256: sha256Of(Buffer.from('something else')),
    };
    await writeFile(join(dir, 'default.json'), signedText(index, key));
    const catalog = new CatalogService({
      store: new AtomicJsonStore(join(dir, 'state')),
      trustedKeys: [key.trusted],
      defaultCatalogPath: join(dir, 'default.json'),
    });
    const port = catalogPort(catalog, new ArtifactCache(join(dir, 'cache')));

    const resolved = await port.resolve('counter', 'qemu-x86_64');
    expect(resolved).toMatchObject({ name: 'Counter', version: '1.0.0' });
    expect(resolved.artifact.disk).toBe('virtio'); // absent in the catalog
    const signal = new AbortController().signal;
    const path = await port.download(resolved.artifact, { signal, onProgress: () => undefined });
    expect(path).toBe(join(dir, 'cache', sha256Of(image)));

    const bad = await port.resolve('counter', 'hvt-x86_64');
    await expect(
      port.download(bad.artifact, { signal, onProgress: () => undefined }),
    ).rejects.toThrow(/^The download of Counter did not match/);
    await expect(port.resolve('counter', 'riscv64')).rejects.toThrow(/no version/);

    expect(catalogAppViews(await catalog.list())).toEqual([
      {
        id: 'counter',
        name: 'Counter',
        summary: index.apps[0]!.summary,
        description: index.apps[0]!.description,
        icon: null,
        version: '1.0.0',
        targets: ['qemu-x86_64', 'hvt-x86_64'],
        catalogName: 'Test apps',
      },
    ]);
  });
});
