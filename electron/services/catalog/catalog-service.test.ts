import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { ArtifactCache } from './artifact-cache';
import { loadBundledCatalog } from './bundled-catalog';
import { CatalogService } from './catalog-service';
import type { CatalogIndex } from './catalog-schema';
import { parseCatalogIndex, readCatalog } from './read-catalog';
import { loadTrustedKeys } from './catalog-signature';
import {
  makeTestKey,
  sampleApp,
  sampleIndex,
  sha256Of,
  signedText,
  startTestServer,
} from './test-catalog';
import type { TestServer } from './test-catalog';

describe('CatalogService', () => {
  const key = makeTestKey();
  let dir: string;
  let server: TestServer;
  let store: AtomicJsonStore;
  let defaultPath: string;
  let now: number;

  const service = (trusted = [key.trusted]) =>
    new CatalogService({
      store,
      trustedKeys: trusted,
      defaultCatalogPath: defaultPath,
      clock: { now: () => now },
      timeoutMs: 2000,
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-catalog-'));
    server = await startTestServer();
    store = new AtomicJsonStore(join(dir, 'state'));
    defaultPath = join(dir, 'default.json');
    now = 1_000;
    await writeFile(
      defaultPath,
      signedText(
        sampleIndex({ name: 'Hearth apps', apps: [sampleApp({ id: 'notes', name: 'Notes' })] }),
        key,
      ),
    );
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  function serveCatalog(index: CatalogIndex, path = '/catalog.json'): string {
    server.routes.set(path, { body: signedText(index, key) });
    return `${server.origin}${path}`;
  }

  it('lists the built-in catalog, each app tagged with where it came from', async () => {
    const listing = await service().list();
    expect(listing.catalogs).toEqual([
      {
        id: 'default',
        name: 'Hearth apps',
        url: null,
        builtIn: true,
        updated: '2026-11-27T10:00:00Z',
        appCount: 1,
        fetchedAt: null,
        problem: null,
      },
    ]);
    expect(listing.apps.map((a) => [a.catalog.id, a.app.id])).toEqual([['default', 'notes']]);
  });

  it('adds a catalog over real HTTP, remembers it, and removes it', async () => {
    const url = serveCatalog(sampleIndex());
    const catalogs = service();
    const summary = await catalogs.addCatalog(url);
    expect(summary).toMatchObject({ id: url, name: 'Test apps', appCount: 1, fetchedAt: 1000 });
    // Adding it again is harmless and fetches nothing.
    await catalogs.addCatalog(url);
    expect(server.requests).toHaveLength(1);

    // A fresh service (Hearth restarted) still has it, offline.
    await server.close();
    const listing = await service().list();
    expect(listing.apps.map((a) => `${a.catalog.name}/${a.app.id}`)).toEqual([
      'Hearth apps/notes',
      'Test apps/counter',
    ]);
    expect(await service().removeCatalog(url)).toBe(true);
    expect(await service().removeCatalog(url)).toBe(false);
    expect((await service().list()).catalogs).toHaveLength(1);
    server = await startTestServer(); // for afterEach
  });

  it('refuses an untrusted, unreachable or public-http catalog and remembers nothing', async () => {
    const stranger = makeTestKey();
    server.routes.set('/other.json', { body: signedText(sampleIndex(), stranger) });
    server.routes.set('/bare.json', { body: JSON.stringify(sampleIndex()) });
    const catalogs = service();
    await expect(catalogs.addCatalog(`${server.origin}/other.json`)).rejects.toThrow(
      'This app catalog is not signed by anyone Hearth trusts, so Hearth will not use it.',
    );
    await expect(catalogs.addCatalog(`${server.origin}/bare.json`)).rejects.toThrow(/not signed/);
    await expect(catalogs.addCatalog(`${server.origin}/missing.json`)).rejects.toThrow(
      /could not download the app catalog/,
    );
    await expect(catalogs.addCatalog('http://apps.example.com/catalog.json')).rejects.toThrow(
      /home network/,
    );
    expect((await catalogs.list()).catalogs).toHaveLength(1);
  });

  it('refuses a catalog larger than the limit while it streams in', async () => {
    server.routes.set('/huge.json', { body: ' '.repeat(3 * 1024 * 1024) });
    await expect(service().addCatalog(`${server.origin}/huge.json`)).rejects.toThrow(
      /larger than Hearth accepts/,
    );
  });

  it('refreshes: takes a newer copy, keeps the last good one on failure or rollback', async () => {
    const url = serveCatalog(sampleIndex());
    const catalogs = service();
    await catalogs.addCatalog(url);

    now = 2_000;
    const v2 = sampleIndex({ updated: '2026-11-28T10:00:00Z' });
    v2.apps[0]!.versions.push({ ...structuredClone(v2.apps[0]!.versions[0]!), version: '1.1.0' });
    serveCatalog(v2);
    const [, refreshed] = await catalogs.refresh();
    expect(refreshed).toMatchObject({
      updated: '2026-11-28T10:00:00Z',
      fetchedAt: 2000,
      problem: null,
    });

    // An older signed copy (a stale mirror, or a replay) is not taken.
    serveCatalog(sampleIndex({ updated: '2026-11-01T00:00:00Z' }));
    const [, rolledBack] = await catalogs.refresh();
    expect(rolledBack!.updated).toBe('2026-11-28T10:00:00Z');
    expect(rolledBack!.problem?.message).toBe(
      'The app catalog "Test apps" sent an older copy of itself than the one Hearth already has, so Hearth refused it and keeps using its own copy.',
    );
    // Hearth restarted: the refusal is still there to read, and the newer copy still in use.
    const afterRestart = (await service().list()).catalogs[1]!;
    expect(afterRestart).toMatchObject({ updated: '2026-11-28T10:00:00Z' });
    expect(afterRestart.problem?.message).toMatch(/sent an older copy/);
    // A fresh service refuses the replay too: what was seen is remembered, not just in memory.
    const [, again] = await service().refresh();
    expect(again).toMatchObject({ updated: '2026-11-28T10:00:00Z', fetchedAt: 2000 });
    expect(again!.problem?.message).toMatch(/sent an older copy/);

    // Untrusted now: refused, the good copy stays.
    server.routes.set('/catalog.json', { body: signedText(v2, makeTestKey()) });
    const [, untrusted] = await catalogs.refresh();
    expect(untrusted!.problem?.message).toMatch(/not signed by anyone Hearth trusts/);
    expect((await catalogs.resolve({ appId: 'counter', target: 'qemu-x86_64' })).version).toBe(
      '1.1.0',
    );

    // A good copy again: the problem is gone.
    serveCatalog(v2);
    const [, good] = await catalogs.refresh();
    expect(good!.problem).toBeNull();
  });

  it('gives the release notes of the version it resolves', async () => {
    const index = sampleIndex();
    const base = index.apps[0]!.versions[0]!;
    index.apps[0]!.versions.push({
      ...structuredClone(base),
      version: '2.0.0',
      releaseNotes: 'Counts faster.\nKeeps its count.',
    });
    const catalogs = service();
    await catalogs.addCatalog(serveCatalog(index));
    const newest = await catalogs.resolve({ appId: 'counter', target: 'qemu-x86_64' });
    expect(newest).toMatchObject({
      version: '2.0.0',
      releaseNotes: 'Counts faster.\nKeeps its count.',
    });
    const first = await catalogs.resolve({
      appId: 'counter',
      target: 'qemu-x86_64',
      version: '1.0.0',
    });
    expect(first.releaseNotes).toBe('');
  });

  it('resolves the newest build for a device, or says plainly there is none', async () => {
    const index = sampleIndex();
    const app = index.apps[0]!;
    const base = app.versions[0]!;
    app.versions = [
      base,
      { ...structuredClone(base), version: '1.2.0' },
      {
        ...structuredClone(base),
        version: '2.0.0-beta.1',
        artifacts: {
          'qemu-aarch64': { url: 'https://x.example/c', size: 1, sha256: 'f'.repeat(64) },
        },
      },
    ];
    const catalogs = service();
    await catalogs.addCatalog(serveCatalog(index));

    const resolved = await catalogs.resolve({ appId: 'counter', target: 'qemu-x86_64' });
    expect(resolved).toMatchObject({
      appId: 'counter',
      appName: 'Counter',
      version: '1.2.0',
      target: 'qemu-x86_64',
      artifact: base.artifacts['qemu-x86_64'],
      resources: base.resources,
    });
    expect(resolved.catalog.name).toBe('Test apps');
    expect(
      (await catalogs.resolve({ appId: 'counter', version: '1.0.0', target: 'qemu-x86_64' }))
        .version,
    ).toBe('1.0.0');
    // Only a pre-release exists for aarch64: unpinned, it is still the only choice.
    expect((await catalogs.resolve({ appId: 'counter', target: 'qemu-aarch64' })).version).toBe(
      '2.0.0-beta.1',
    );
    await expect(catalogs.resolve({ appId: 'counter', target: 'hvt-aarch64' })).rejects.toThrow(
      'Counter has no version for this device (Solo5, aarch64).',
    );
    await expect(
      catalogs.resolve({ appId: 'counter', version: '1.0.0', target: 'qemu-aarch64' }),
    ).rejects.toThrow('Counter has no version 1.0.0 for this device (aarch64).');
    await expect(
      catalogs.resolve({ appId: 'counter', version: '9.9.9', target: 'qemu-x86_64' }),
    ).rejects.toThrow(/no version 9.9.9/);
    await expect(catalogs.resolve({ appId: 'nope', target: 'qemu-x86_64' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      catalogs.resolve({ appId: 'counter', target: 'qemu-x86_64', catalogId: 'default' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('says "Counter has no version for this device (aarch64)" for an x86-only app', async () => {
    const catalogs = service();
    await catalogs.addCatalog(serveCatalog(sampleIndex()));
    await expect(catalogs.resolve({ appId: 'counter', target: 'qemu-aarch64' })).rejects.toThrow(
      'Counter has no version for this device (aarch64).',
    );
  });

  it('refuses a tampered entry (wrong sha256) before anything could reach a device', async () => {
    const image = randomBytes(64 * 1024);
    server.routes.set('/counter.elf', { body: image });
    const index = sampleIndex();
    index.apps[0]!.versions[0]!.artifacts['qemu-x86_64'] = {
      url: `${server.origin}/counter.elf`,
      size: image.length,
      sha256: sha256Of(randomBytes(8)), // not the image's hash
    };
    const catalogs = service();
    await catalogs.addCatalog(serveCatalog(index));
    const resolved = await catalogs.resolve({ appId: 'counter', target: 'qemu-x86_64' });
    const cacheDir = join(dir, 'images');
    const cache = new ArtifactCache(cacheDir);
    await expect(cache.get(resolved.artifact, { label: resolved.appName })).rejects.toThrow(
      'The download of Counter did not match what the catalog promised, so Hearth threw it away. Nothing was installed.',
    );
    expect(await readdir(cacheDir)).toEqual([]);

    // And editing the sha256 inside a signed file breaks its signature instead.
    const signed = JSON.parse(signedText(sampleIndex(), key)) as { index: string };
    const text = Buffer.from(signed.index, 'base64').toString('utf8').replace('aaaa', 'bbbb');
    signed.index = Buffer.from(text).toString('base64');
    server.routes.set('/edited.json', { body: JSON.stringify(signed) });
    await expect(catalogs.addCatalog(`${server.origin}/edited.json`)).rejects.toThrow(
      /not signed by anyone Hearth trusts/,
    );
  });

  it('keeps working with added catalogs when the built-in one is broken', async () => {
    await writeFile(defaultPath, 'garbage');
    const catalogs = service();
    await catalogs.addCatalog(serveCatalog(sampleIndex()));
    const listing = await catalogs.list();
    expect(listing.catalogs[0]!.problem?.message).toMatch(/damaged/);
    expect(listing.apps.map((a) => a.app.id)).toEqual(['counter']);
  });

  it('ignores a stored copy that no longer verifies (key unpinned)', async () => {
    const url = serveCatalog(sampleIndex());
    await service().addCatalog(url);
    const other = makeTestKey();
    const listing = await service([key.trusted, other.trusted]).list();
    expect(listing.apps).toHaveLength(2);
    const unpinned = await new CatalogService({
      store,
      trustedKeys: loadTrustedKeys([other.trusted]),
      defaultCatalogPath: defaultPath,
    }).list();
    expect(unpinned.apps).toEqual([]);
    expect(unpinned.catalogs[1]).toMatchObject({ url, name: '127.0.0.1:' + new URL(url).port });
    expect(unpinned.catalogs[1]!.problem?.message).toMatch(/not signed by anyone Hearth trusts/);
  });
});

describe('the catalog Hearth ships', () => {
  const resources = resolve(import.meta.dirname, '../../../resources');

  it('is signed by the pinned Hearth key', async () => {
    const bundled = await loadBundledCatalog(resources);
    expect(bundled.trustedKeys.length).toBeGreaterThan(0);
    const file = await readFile(bundled.defaultCatalogPath);
    const index = readCatalog(file, loadTrustedKeys(bundled.trustedKeys));
    // No invented hashes: every app here must point at an image we actually publish.
    expect(index.apps).toEqual([]);
  });

  it('offers only builds-service jobs from robur, with no fixed image of its own', async () => {
    const source = await readFile(join(resources, 'catalog', 'default.index.json'), 'utf8');
    const index = parseCatalogIndex(JSON.parse(source));
    expect(index.apps).toEqual([]);
    expect(index.jobs?.map((j) => j.id)).toEqual(['dnsvizor']);
    for (const job of index.jobs ?? [])
      expect(job.builds.service).toBe('https://builds.robur.coop');
  });

  it('is signed from its readable source, byte for byte', async () => {
    const bundled = await loadBundledCatalog(resources);
    const file = await readFile(bundled.defaultCatalogPath);
    const source = await readFile(join(resources, 'catalog', 'default.index.json'));
    const signed = JSON.parse(file.toString('utf8')) as { index: string };
    expect(Buffer.from(signed.index, 'base64')).toEqual(source);
  });
});
