import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';

// Main process bundle. Electron Forge merges its own entry into this; the lib settings
// here let `npm run build` produce the same bundle without Forge.
// Native addons (ssh2's optional crypto binding, cpu-features) stay unbundled: ssh2
// requires them inside try/catch and falls back to its pure-JS code when they are absent.
const external = [
  'electron',
  /^electron\/.+/,
  /\.node$/,
  'cpu-features',
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
];

export default defineConfig({
  // Node's entry points, not the browser builds some packages (pino) also ship.
  resolve: { conditions: ['node'], mainFields: ['module', 'jsnext:main', 'jsnext', 'main'] },
  build: {
    outDir: '.vite/build',
    emptyOutDir: false,
    target: 'node22',
    minify: false,
    sourcemap: true,
    lib: { entry: 'electron/main.ts', formats: ['cjs'], fileName: () => 'main.cjs' },
    rollupOptions: { external },
  },
});
