// Lint is where the layer rules live (DESIGN.md): services stay plain Node, shared/ stays
// dependency-free of our own code, and the renderer never reaches Node or Electron.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './renderer/svelte.config.js';

const noElectronInServices = {
  paths: [
    {
      name: 'electron',
      message:
        'electron/services/ is plain Node: pass Electron features in through a port from electron/shell/.',
    },
  ],
  patterns: [
    {
      group: ['**/shell/**', '**/ipc/**', '**/main', '**/preload'],
      message: 'services/ must not depend on the Electron shell or IPC layers.',
    },
    { group: ['**/renderer/**'], message: 'services/ must not import renderer code.' },
  ],
};

const sharedImportsNothingOfOurs = {
  paths: [{ name: 'electron', message: 'shared/ is the contract: no electron.' }],
  patterns: [
    {
      group: ['**/electron/**', '**/renderer/**', '../*'],
      message: 'shared/ imports nothing of ours outside shared/.',
    },
    {
      group: ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'crypto'],
      message: 'shared/ runs in the renderer too: no Node modules.',
    },
  ],
};

const rendererStaysInTheBrowser = {
  paths: [
    { name: 'electron', message: 'The renderer reaches the app only through window.hearth.' },
  ],
  patterns: [
    {
      group: ['**/electron/**'],
      message: 'The renderer reaches the app only through window.hearth.',
    },
    {
      group: [
        'node:*',
        'fs',
        'path',
        'os',
        'child_process',
        'net',
        'crypto',
        'ws',
        'ssh2',
        'bonjour-service',
      ],
      message: 'The renderer runs in a sandboxed browser: no Node modules.',
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.vite/',
      'out/',
      'dist/',
      'renderer/dist/',
      'test-results/',
      'playwright-report/',
      'e2e/.artifacts/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      // An async function that returns a value without awaiting is fine and common here.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, svelteConfig },
    },
  },
  {
    files: ['electron/**/*.ts', 'e2e/**/*.ts', 'bench/**/*.ts', '*.config.ts', '*.config.js'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte'],
    // The build configs run in Node, not in the page.
    ignores: ['renderer/vite.config.ts', 'renderer/svelte.config.js'],
    languageOptions: { globals: globals.browser },
    rules: { 'no-restricted-imports': ['error', rendererStaysInTheBrowser] },
  },
  {
    files: ['electron/services/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', noElectronInServices] },
  },
  {
    files: ['shared/**/*.ts'],
    // Tests of shared/ run under Node and may use it to check against real tools.
    ignores: ['shared/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', sharedImportsNothingOfOurs] },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
