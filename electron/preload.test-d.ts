import { expectTypeOf, test } from 'vitest';
import type { HearthApi } from '../shared/hearth-api';
import type { PreloadApi } from './preload';

test('the preload exposes exactly the contract’s window.hearth', () => {
  expectTypeOf<PreloadApi>().toEqualTypeOf<HearthApi>();
});
