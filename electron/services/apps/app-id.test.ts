import { describe, expect, it } from 'vitest';
import { appIdBase, freeAppId } from './app-id';

describe('app ids from names', () => {
  it.each([
    ['Counter', 'counter'],
    ['My Notes (2024)', 'my-notes-2024'],
    ['  Café calendar!  ', 'cafe-calendar'],
    ['42 things', 'app-42-things'],
    ['日本', 'app'],
    ['A'.repeat(80), 'a'.repeat(29)],
  ])('%j becomes %j', (name, id) => {
    expect(appIdBase(name)).toBe(id);
    expect(id).toMatch(/^[a-z][a-z0-9-]{0,31}$/);
  });

  it('never takes an id the device already uses', () => {
    expect(freeAppId('Counter', new Set(['web']))).toBe('counter');
    expect(freeAppId('Counter', new Set(['counter', 'counter-2']))).toBe('counter-3');
  });
});
