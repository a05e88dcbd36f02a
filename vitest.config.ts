import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// Two environments: plain Node for electron/, shared/ and the lab, a DOM for Svelte components.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: [
            'electron/**/*.test.ts',
            'shared/**/*.test.ts',
            'e2e/lab/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          typecheck: {
            enabled: true,
            include: ['shared/**/*.test-d.ts', 'electron/**/*.test-d.ts'],
            tsconfig: 'tsconfig.node.json',
          },
        },
      },
      {
        plugins: [svelte({ configFile: './renderer/svelte.config.js' }), svelteTesting()],
        test: {
          name: 'dom',
          environment: 'jsdom',
          include: ['renderer/**/*.test.ts'],
          setupFiles: ['renderer/src/test-setup.ts'],
        },
      },
    ],
  },
});
