// Proves the fuses of a packaged Hearth, through each packager's own path: Forge's hook from
// forge.config.ts, and electron-builder's configuration loaded and validated the way
// `npm run dist` loads it, then turned into fuse bits by electron-builder's own code. Each
// flips a stand-in Electron binary (the fuse wire is a marker plus one byte per fuse, as in
// the real binary), and the test reads the bytes back itself.
import type { ResolvedForgeConfig } from '@electron-forge/shared-types';
import { flipFuses } from '@electron/fuses';
import type { FuseConfig } from '@electron/fuses';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import forgeConfig from '../../forge.config';
import { APP_ID } from './app-id';
import { hearthFuses } from './fuses';

const root = join(import.meta.dirname, '..', '..');
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Fuse wire order (electron/fuses' FuseV1Options); a ninth, newer fuse is left untouched. */
const fuseNames = [
  'RunAsNode',
  'EnableCookieEncryption',
  'EnableNodeOptionsEnvironmentVariable',
  'EnableNodeCliInspectArguments',
  'EnableEmbeddedAsarIntegrityValidation',
  'OnlyLoadAppFromAsar',
  'LoadBrowserProcessSpecificV8Snapshot',
  'GrantFileProtocolExtraPrivileges',
  'NewerFuse',
];
// An unpackaged Electron's defaults: Node mode, NODE_OPTIONS, --inspect all on.
const electronDefaults = '101100011';

/** What a packaged Hearth must carry, whichever packager made it. */
const hardened = {
  RunAsNode: false,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  EnableCookieEncryption: true,
  GrantFileProtocolExtraPrivileges: false,
  // Not Hearth's business: as Electron ships them.
  LoadBrowserProcessSpecificV8Snapshot: false,
  NewerFuse: true,
};

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'hearth-fuses-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeElectron(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const wire = Buffer.concat([
    Buffer.from(SENTINEL),
    Buffer.from([1, 9]),
    Buffer.from(electronDefaults),
  ]);
  writeFileSync(file, Buffer.concat([Buffer.alloc(4096, 0xcc), wire, Buffer.alloc(1024, 0xcc)]));
}

/** The fuses as the binary's bytes say, read without @electron/fuses. */
function fusesIn(file: string): Record<string, boolean> {
  const bytes = readFileSync(file);
  const at = bytes.indexOf(SENTINEL) + SENTINEL.length;
  expect(bytes.indexOf(SENTINEL, at)).toBe(-1);
  const length = bytes[at + 1]!;
  return Object.fromEntries(
    fuseNames.slice(0, length).map((name, i) => [name, bytes[at + 2 + i] === '1'.charCodeAt(0)]),
  );
}

describe('the packaged app’s fuses', () => {
  it('lists each hardening fuse once, for both packagers', () => {
    expect(hearthFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it.each([
    ['linux', 'x64', 'resources/app', 'electron'],
    ['win32', 'x64', 'resources/app', 'electron.exe'],
    // On macOS the fuses live in the framework the executable loads.
    [
      'darwin',
      'x64',
      'Hearth.app/Contents/Resources/app',
      'Hearth.app/Contents/Frameworks/Electron Framework.framework/Electron Framework',
    ],
  ])('Forge flips them in every %s build it packages', async (platform, arch, app, binary) => {
    const out = join(dir, 'forge', platform);
    mkdirSync(join(out, app), { recursive: true });
    fakeElectron(join(out, binary));
    const hook = forgeConfig.hooks?.packageAfterCopy;
    expect(hook).toBeTypeOf('function');
    await hook!(
      forgeConfig as ResolvedForgeConfig,
      join(out, app),
      '45.5.0',
      platform as 'linux',
      arch as 'x64',
    );
    expect(fusesIn(join(out, binary))).toEqual(hardened);
  });

  it('electron-builder reads the same list from electron-builder.yml and flips it', async () => {
    const require = createRequire(import.meta.url);
    // electron-builder's own loading, merging (extends) and schema check of its config file.
    const { getConfig, validateConfiguration } =
      require('app-builder-lib/out/util/config/config') as {
        getConfig: (
          projectDir: string,
          file: string,
          fromOptions: null,
        ) => Promise<Record<string, unknown>>;
        validateConfiguration: (config: unknown, debug: { isEnabled: boolean }) => Promise<void>;
      };
    // The package's entry first: its modules require each other in that order.
    const { PlatformPackager } = require('app-builder-lib') as {
      PlatformPackager: { prototype: { generateFuseConfig(fuses: unknown): Promise<FuseConfig> } };
    };
    // electron-builder.yml's other parent refuses to load without a release's update feed.
    process.env.HEARTH_UPDATE_FEED =
      'https://github.com/hearth-home/hearth/releases/latest/download';
    const config = await getConfig(root, 'electron-builder.yml', null).finally(
      () => delete process.env.HEARTH_UPDATE_FEED,
    );
    await validateConfiguration(config, { isEnabled: false });
    // One id for both packagers (app-id.ts): NSIS's shortcuts and main's setAppUserModelId.
    expect(config).toMatchObject({ appId: APP_ID, asar: true });
    expect(forgeConfig.packagerConfig?.appBundleId).toBe(APP_ID);
    expect(config.electronFuses).toEqual(hearthFuses);

    const binary = join(dir, 'builder', 'hearth');
    fakeElectron(binary);
    // What electron-builder does right before signing: its fuse config, then @electron/fuses.
    await flipFuses(
      binary,
      await PlatformPackager.prototype.generateFuseConfig(config.electronFuses),
    );
    expect(fusesIn(binary)).toEqual(hardened);
    // Loading electron-builder (and the TypeScript parents of its config) takes seconds on a
    // busy machine.
  }, 60_000);
});
