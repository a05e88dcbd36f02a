// Electron Forge runs the dev loop (`npm start`) and bundles main, preload and renderer
// with Vite. Installers and auto-update are electron-builder's job (electron-builder.yml).
import type { ForgeConfig } from '@electron-forge/shared-types';
import { VitePlugin } from '@electron-forge/plugin-vite';

const config: ForgeConfig = {
  packagerConfig: {
    name: 'Hearth',
    executableName: 'hearth',
    appBundleId: 'org.hearth.desktop',
    icon: 'resources/icons/icon',
    extraResource: ['resources/tray', 'resources/catalog'],
    asar: true,
  },
  rebuildConfig: {},
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
