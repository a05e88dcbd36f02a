import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import { DeviceReachability } from './device-reachability';

describe('DeviceReachability', () => {
  it('learns from every connection: unreachable since the first failure, a refused key as a changed identity', async () => {
    let now = 1_000;
    let changes = 0;
    const reach = new DeviceReachability({ now: () => now }, () => changes++);
    let answer: () => Promise<string> = () => Promise.resolve('session');
    const open = reach.watch(() => answer());

    await expect(open('pi')).resolves.toBe('session');
    expect(reach.answering()).toEqual(['pi']);

    answer = () => Promise.reject(new HearthError('DEVICE_UNREACHABLE'));
    await expect(open('pi')).rejects.toThrow(HearthError);
    now = 5_000;
    await expect(open('pi')).rejects.toThrow(HearthError);
    expect(reach.snapshot().get('pi')).toEqual({ unreachableSince: 1_000, identityChanged: false });
    expect(reach.answering()).toEqual([]);

    answer = () => Promise.reject(new HearthError('HOST_KEY_CHANGED'));
    await expect(open('pi')).rejects.toThrow(HearthError);
    expect(reach.snapshot().get('pi')).toEqual({ unreachableSince: 1_000, identityChanged: true });

    answer = () => Promise.resolve('session');
    await open('pi');
    expect(reach.snapshot().get('pi')).toEqual({ unreachableSince: null, identityChanged: false });
    // answered, failed (once: the second failure changed nothing), key refused, answered.
    expect(changes).toBe(4);
  });
});
