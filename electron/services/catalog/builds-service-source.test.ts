import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { ArtifactCache } from './artifact-cache';
import { startBuildsFixture } from './builds-fixture';
import type { BuildsFixture, FixtureBuild } from './builds-fixture';
import { BuildsServiceSource } from './builds-service-source';
import { catalogPort, catalogAppViews } from './catalog-port';
import type { BuildsJob, CatalogIndex } from './catalog-schema';
import { CatalogService } from './catalog-service';
import { makeTestKey, sha256Of, signedText } from './test-catalog';

const OLD = '2026-11-20T08:00:00-00:00';
const NEW = '2026-11-27T09:05:03-00:00';
const oldImage = Buffer.from('unikernel build one');
const newImage = Buffer.from('unikernel build two, a different image');

function build(overrides: Partial<FixtureBuild> = {}): FixtureBuild {
  return {
    uuid: '11111111-2222-4333-8444-555555555555',
    start: OLD,
    image: oldImage,
    abi: 'hvt',
    ...overrides,
  };
}

const older = build();
const newer = build({ uuid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', start: NEW, image: newImage });
const failed = build({
  uuid: '99999999-9999-4999-8999-999999999999',
  start: '2026-11-28T00:00:00-00:00',
  image: null,
});

function job(service: string, overrides: Partial<BuildsJob['builds']> = {}): BuildsJob {
  return {
    id: 'notes',
    name: 'Notes',
    summary: 'Notes that stay at home.',
    description: 'A notes app.',
    builds: { service, job: 'notes', ...overrides },
    resources: {
      memoryMiB: 64,
      volumes: [{ name: 'storage', sizeMiB: 64 }],
      ports: [{ name: 'web', guest: 80, host: 8080, protocol: 'tcp' }],
      bootArgs: '',
      health: { kind: 'http', port: 80, path: '/' },
    },
  };
}

describe('the builds-service source (builder-web JSON)', () => {
  let fixture: BuildsFixture;
  let dir: string;
  beforeEach(async () => {
    fixture = await startBuildsFixture({ notes: [older, newer, failed] });
    dir = await mkdtemp(join(tmpdir(), 'hearth-builds-'));
  });
  afterEach(async () => {
    await fixture.close();
    await rm(dir, { recursive: true, force: true });
  });
  const source = () => new BuildsServiceSource({ timeoutMs: 2000 });

  it('offers the newest successful build, its image checked by its sha256, and says what changed', async () => {
    const app = await source().resolve(job(fixture.origin));
    expect(app.versions).toHaveLength(1);
    const version = app.versions[0]!;
    // The second image the job made (builder-web numbers and dates none in its JSON).
    expect(version.version).toBe('0.0.2');
    expect(version.artifacts['hvt-x86_64']).toEqual({
      url: `${fixture.origin}/job/notes/build/${newer.uuid}/main-binary`,
      size: newImage.length,
      sha256: sha256Of(newImage),
    });
    expect(version.releaseNotes).toContain('(build aaaaaaaa)');
    expect(version.releaseNotes).toContain(
      'Its image differs from the one before it (build 11111111)',
    );
    // One request, for JSON, as builder-web answers HTML otherwise (and its build pages always).
    expect(fixture.requests).toEqual([{ path: '/job/notes', accept: 'application/json' }]);
  });

  it("reads the job's builds exactly as builder-web's Job.make_json writes them", async () => {
    const sha = sha256Of(newImage);
    fixture.raw.set(
      '/job/notes',
      `{"builds":[{"uuid":"${newer.uuid}","main_binary":{"filename":"notes.spt","sha256":"${sha}","size":${newImage.length}}},{"uuid":"${older.uuid}","main_binary":null}]}`,
    );
    const version = (await source().resolve(job(fixture.origin))).versions[0]!;
    expect(version.artifacts).toEqual({
      'spt-x86_64': {
        url: `${fixture.origin}/job/notes/build/${newer.uuid}/main-binary`,
        size: newImage.length,
        sha256: sha,
      },
    });
    expect(version.version).toBe('0.0.1');
  });

  it('offers no new version for a rebuild that made the very same image', async () => {
    const before = (await source().resolve(job(fixture.origin))).versions[0]!.version;
    const rebuild = {
      ...newer,
      uuid: 'dddddddd-dddd-4ddd-8ddd-dddddddddddd',
      start: '2026-12-01T00:00:00Z',
    };
    fixture.jobs.set('notes', [older, newer, rebuild]);
    const after = (await source().resolve(job(fixture.origin))).versions[0]!;
    expect(after.version).toBe(before);
    expect(after.artifacts['hvt-x86_64']?.sha256).toBe(sha256Of(newImage));
  });

  it('offers the build a pinned hash names, even when newer ones exist', async () => {
    const app = await source().resolve(job(fixture.origin, { sha256: sha256Of(oldImage) }));
    const version = app.versions[0]!;
    expect(version.version).toBe('0.0.1');
    expect(version.artifacts['hvt-x86_64']?.sha256).toBe(sha256Of(oldImage));
    expect(version.artifacts['hvt-x86_64']?.url).toContain(older.uuid);
    expect(version.releaseNotes).toContain("Hearth's catalog keeps this build; 1 newer build");
    // Found in the job's list: builder-web's /hash answers with its HTML build page.
    expect(fixture.requests.map((r) => r.path)).toEqual(['/job/notes']);
  });

  it('refuses a pinned hash the service has no build for', async () => {
    await expect(source().resolve(job(fixture.origin, { sha256: 'f'.repeat(64) }))).rejects.toThrow(
      `Hearth does not offer Notes right now: ${new URL(fixture.origin).host} has no build of the image Hearth's catalog vouches for.`,
    );
  });

  it('refuses to install a build whose image does not match the sha256 the service gave', async () => {
    fixture.jobs.set('notes', [older, { ...newer, served: Buffer.alloc(newImage.length, 'x') }]);
    const store = new AtomicJsonStore(join(dir, 'state'));
    const defaultPath = join(dir, 'default.json');
    const key = makeTestKey();
    await writeFile(defaultPath, signedText(indexWith([job(fixture.origin)]), key));
    const catalog = new CatalogService({
      store,
      trustedKeys: [key.trusted],
      defaultCatalogPath: defaultPath,
      timeoutMs: 2000,
    });
    const port = catalogPort(catalog, new ArtifactCache(join(dir, 'cache'), { retryDelayMs: 1 }));
    const resolved = await port.resolve('notes', 'hvt-x86_64');
    expect(resolved.artifact.sha256).toBe(sha256Of(newImage));
    await expect(
      port.download(resolved.artifact, {
        signal: new AbortController().signal,
        onProgress: () => undefined,
      }),
    ).rejects.toThrow(
      'The download of Notes did not match what the catalog promised, so Hearth threw it away. Nothing was installed.',
    );
  });

  it('maps the Solo5 target of a build to the device kind that runs it, and refuses the rest', async () => {
    fixture.jobs.set('notes', [{ ...newer, abi: 'virtio' }]);
    expect(
      Object.keys((await source().resolve(job(fixture.origin))).versions[0]!.artifacts),
    ).toEqual(['qemu-x86_64']);
    fixture.jobs.set('notes', [{ ...newer, abi: 'spt' }]);
    expect(
      Object.keys((await source().resolve(job(fixture.origin))).versions[0]!.artifacts),
    ).toEqual(['spt-x86_64']);
    fixture.jobs.set('notes', [{ ...newer, abi: 'muen' }]);
    await expect(source().resolve(job(fixture.origin))).rejects.toThrow(
      'Hearth does not offer Notes right now: it is built for Solo5 muen, which Hearth does not run.',
    );
  });

  it('turns raw from the service into a sentence', async () => {
    fixture.raw.set('/job/notes', '{"builds": "all of them"}');
    await expect(source().resolve(job(fixture.origin))).rejects.toThrow(
      `The build service ${new URL(fixture.origin).host} sent an answer Hearth does not understand, so Hearth keeps the apps it found there before.`,
    );
    fixture.raw.set('/job/notes', '<html>not json</html>');
    await expect(source().resolve(job(fixture.origin))).rejects.toThrow(/does not understand/);
  });
});

function indexWith(jobs: BuildsJob[]): CatalogIndex {
  return {
    format: 'hearth-catalog/1',
    name: 'Hearth apps',
    updated: '2026-11-27T10:00:00Z',
    apps: [],
    jobs,
  };
}

describe('a catalog of builds-service jobs', () => {
  const key = makeTestKey();
  let fixture: BuildsFixture;
  let dir: string;
  let store: AtomicJsonStore;
  let defaultPath: string;
  beforeEach(async () => {
    fixture = await startBuildsFixture({ notes: [older, newer] });
    dir = await mkdtemp(join(tmpdir(), 'hearth-builds-'));
    store = new AtomicJsonStore(join(dir, 'state'));
    defaultPath = join(dir, 'default.json');
    await writeFile(defaultPath, signedText(indexWith([job(fixture.origin)]), key));
  });
  afterEach(async () => {
    await fixture.close();
    await rm(dir, { recursive: true, force: true });
  });
  const service = () =>
    new CatalogService({
      store,
      trustedKeys: [key.trusted],
      defaultCatalogPath: defaultPath,
      timeoutMs: 2000,
    });

  it('shows the job as an app with its build and what changed, on a fresh install', async () => {
    const listing = await service().list();
    expect(listing.catalogs[0]).toMatchObject({ id: 'default', appCount: 1, problem: null });
    const [card] = catalogAppViews(listing);
    expect(card).toMatchObject({
      id: 'notes',
      name: 'Notes',
      version: '0.0.2',
      targets: ['hvt-x86_64'],
      catalogName: 'Hearth apps',
    });
    expect(card?.changes).toContain('Its image differs from the one before it');
  });

  it('keeps showing the builds it found when the service is unreachable, and says why', async () => {
    await service().list(); // a fresh install finds the build
    const host = new URL(fixture.origin).host;
    await fixture.close();
    const catalog = service(); // Hearth restarted: the remembered build is shown at once
    expect((await catalog.list()).apps.map((a) => a.app.id)).toEqual(['notes']);
    const [summary] = await catalog.refresh();
    expect(summary?.problem?.message).toBe(
      `Hearth could not reach the build service ${host}, so it shows the apps it found there before and will try again later.`,
    );
    const listing = await catalog.list();
    expect(listing.apps.map((a) => a.app.versions[0]?.version)).toEqual(['0.0.2']);
    // …and the problem is still there after Hearth restarts, until a refresh succeeds.
    expect((await service().list()).catalogs[0]?.problem?.message).toMatch(/could not reach/);
    const resolved = await catalog.resolve({ appId: 'notes', target: 'hvt-x86_64' });
    expect(resolved.artifact.sha256).toBe(sha256Of(newImage));
  });

  it('offers a newer build after a refresh, as a newer version', async () => {
    const catalog = service();
    await catalog.list();
    const newest = build({
      uuid: 'cccccccc-cccc-4ccc-8ccc-cccccccccccc',
      start: '2026-12-01T10:00:00-00:00',
      image: Buffer.from('third'),
    });
    fixture.jobs.set('notes', [older, newer, newest]);
    await catalog.refresh();
    const listing = await catalog.list();
    expect(listing.catalogs[0]?.problem).toBeNull();
    expect(listing.apps[0]?.app.versions[0]?.version).toBe('0.0.3');
  });

  it('a fresh install with the service unreachable says so and still lists the other apps', async () => {
    await fixture.close();
    const listing = await service().list();
    expect(listing.apps).toEqual([]);
    expect(listing.catalogs[0]?.problem?.message).toMatch(/could not reach the build service/);
    const state = await readFile(join(dir, 'state', 'catalog-builds.json'), 'utf8');
    expect(state).toContain('could not reach');
  });
});
