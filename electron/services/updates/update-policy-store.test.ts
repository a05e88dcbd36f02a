import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { UpdatePolicyStore } from './update-policy-store';

describe('UpdatePolicyStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-policies-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const open = () => new UpdatePolicyStore(new AtomicJsonStore(join(dir, 'state')));

  it('asks by default, and keeps each app’s choice across a restart', async () => {
    const policies = open();
    expect(await policies.policy('pi', 'counter')).toBe('ask');
    await policies.setPolicy('pi', 'counter', 'auto');
    expect(await policies.policy('pi', 'counter')).toBe('auto');
    expect(await policies.policy('pi', 'notes')).toBe('ask');
    expect(await open().policy('pi', 'counter')).toBe('auto');
  });

  it('lets an automatic update of a version be claimed once, even after a restart', async () => {
    const policies = open();
    expect(await policies.claimAutoStart('pi', 'counter', '2.0.0')).toBe(true);
    expect(await policies.claimAutoStart('pi', 'counter', '2.0.0')).toBe(false);
    expect(await open().claimAutoStart('pi', 'counter', '2.0.0')).toBe(false);
    expect(await open().claimAutoStart('pi', 'counter', '3.0.0')).toBe(true);
    // Two claims at once: only one wins.
    const both = await Promise.all([
      policies.claimAutoStart('pi', 'notes', '1.1.0'),
      policies.claimAutoStart('pi', 'notes', '1.1.0'),
    ]);
    expect(both.filter(Boolean)).toHaveLength(1);
  });
});
