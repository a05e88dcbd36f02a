// Electron's fuses for every packaged build: bits in the Electron binary, flipped at
// packaging time, that turn off ways to run other code with the app's identity (and its
// access to the owner's keyring and devices). One list, read by both packagers:
// forge.config.ts flips it after Forge copies the app (packageAfterCopy), and
// electron-builder.yml `extends` this file (its default export) for `electronFuses`.
// `npm start` runs an unpackaged Electron, so none of this applies there.
import { flipFuses, FuseV1Options, FuseVersion } from '@electron/fuses';
import type { FuseConfig } from '@electron/fuses';
import type { Configuration } from 'electron-builder';
import { join, resolve } from 'node:path';

type FuseOptions = NonNullable<Configuration['electronFuses']>;

export const hearthFuses = {
  // ELECTRON_RUN_AS_NODE would turn the signed app into a plain Node for anyone who sets it.
  runAsNode: false,
  // NODE_OPTIONS (--require a script) and NODE_EXTRA_CA_CERTS reach into the main process.
  enableNodeOptionsEnvironmentVariable: false,
  // --inspect and SIGUSR1 would open a debugger on the main process.
  enableNodeCliInspectArguments: false,
  // The app is only ever loaded from app.asar, and app.asar must match the hash recorded
  // at packaging (checked on macOS and Windows), so its code cannot be swapped on disk.
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  // Hearth keeps no cookies, so encrypting the (empty) store costs nothing.
  enableCookieEncryption: true,
  // The page is served from app://, never file://, so file:// needs no extra powers.
  grantFileProtocolExtraPrivileges: false,
} as const satisfies FuseOptions;

const fuseIndex: Record<keyof typeof hearthFuses, FuseV1Options> = {
  runAsNode: FuseV1Options.RunAsNode,
  enableNodeOptionsEnvironmentVariable: FuseV1Options.EnableNodeOptionsEnvironmentVariable,
  enableNodeCliInspectArguments: FuseV1Options.EnableNodeCliInspectArguments,
  enableEmbeddedAsarIntegrityValidation: FuseV1Options.EnableEmbeddedAsarIntegrityValidation,
  onlyLoadAppFromAsar: FuseV1Options.OnlyLoadAppFromAsar,
  enableCookieEncryption: FuseV1Options.EnableCookieEncryption,
  grantFileProtocolExtraPrivileges: FuseV1Options.GrantFileProtocolExtraPrivileges,
};

/** The same list as @electron/fuses wants it (fuse number → on/off). */
export function fuseWireConfig(): FuseConfig {
  const config: FuseConfig = { version: FuseVersion.V1 };
  for (const [name, on] of Object.entries(hearthFuses))
    config[fuseIndex[name as keyof typeof hearthFuses]] = on;
  return config;
}

/**
 * Where the Electron binary that carries the fuses is while Forge runs packageAfterCopy:
 * the app was copied to <out>/resources/app (<out>/Hearth.app/Contents/Resources/app on
 * macOS) and the executable still has Electron's own name; it is renamed after the hooks.
 */
export function electronBinaryAfterCopy(buildPath: string, platform: string): string {
  const base = resolve(buildPath, '..', '..');
  if (platform === 'darwin' || platform === 'mas') return join(base, 'MacOS', 'Electron');
  return join(base, platform === 'win32' ? 'electron.exe' : 'electron');
}

/** Forge's packageAfterCopy hook: flips Hearth's fuses in the binary being packaged. */
export async function flipFusesAfterCopy(
  buildPath: string,
  platform: string,
  arch: string,
  { signedLater = false }: { signedLater?: boolean } = {},
): Promise<void> {
  await flipFuses(electronBinaryAfterCopy(buildPath, platform), {
    ...fuseWireConfig(),
    // Flipping bits breaks the ad-hoc signature arm64 macOS needs to run the app at all;
    // unless Forge signs it properly afterwards (osxSign), sign it ad hoc again.
    resetAdHocDarwinSignature: !signedLater && platform === 'darwin' && arch === 'arm64',
  });
}

/** electron-builder.yml extends this: the list in electron-builder's own terms. */
export default { electronFuses: hearthFuses } satisfies Configuration;
