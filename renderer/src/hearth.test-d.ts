// Checked by svelte-check (npm run typecheck): the renderer's view of window.hearth is the
// contract's HearthApi, the same type the preload and the browser bridge build.
import { expectTypeOf } from 'vitest';
import type { HearthApi } from '../../shared/hearth-api';

expectTypeOf<Window['hearth']>().toEqualTypeOf<HearthApi>();
expectTypeOf<Window['hearth']['settings']['update']>().parameters.toEqualTypeOf<
  [
    {
      theme?: 'system' | 'light' | 'dark';
      welcomeDone?: boolean;
      allowUnprotectedKey?: boolean;
      startAtLogin?: boolean;
    },
  ]
>();
