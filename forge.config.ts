// Electron Forge runs the dev loop (`npm start`) and bundles main, preload and renderer
// with Vite. Installers and auto-update are electron-builder's job (electron-builder.yml).
import type { ForgeConfig } from '@electron-forge/shared-types';
import { VitePlugin } from '@electron-forge/plugin-vite';
import { APP_ID } from './electron/shell/app-id';
import { flipFusesAfterCopy } from './electron/shell/fuses';

const config: ForgeConfig = {
  packagerConfig: {
    name: 'Hearth',
    executableName: 'hearth',
    appBundleId: APP_ID,
    icon: 'resources/icons/icon',
    extraResource: ['resources/tray', 'resources/catalog'],
    asar: true,
  },
  rebuildConfig: {},
  hooks: {
    // Hearth's fuses (electron/shell/fuses.ts, shared with electron-builder.yml) in every
    // build Forge packages.
    packageAfterCopy: async (forgeConfig, buildPath, _electronVersion, platform, arch) => {
      await flipFusesAfterCopy(buildPath, platform, arch, {
        signedLater: Boolean(forgeConfig.packagerConfig.osxSign),
      });
    },
  },
  makers: [],
  plugins: [
    new VitePlugin({
      build: [
        { entry: 'electron/main.ts', config: 'electron/vite.main.config.ts', target: 'main' },
        {
          entry: 'electron/preload.ts',
          config: 'electron/vite.preload.config.ts',
          target: 'preload',
        },
      ],
      renderer: [{ name: 'main_window', config: 'renderer/vite.config.ts' }],
    }),
  ],
};

export default config;
