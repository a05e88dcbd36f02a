import { describe, expect, it } from 'vitest';
import {
  deviceAddress,
  deviceLink,
  laptopLanAddress,
  laptopSecondAddress,
  maxDevices,
} from './addresses';

describe('lab addresses', () => {
  it('gives devices distinct addresses in the benchmarking range, apart from the laptop', () => {
    const all = Array.from({ length: maxDevices }, (_, i) => deviceAddress(i));
    expect(new Set(all).size).toBe(maxDevices);
    for (const a of all) expect(a).toMatch(/^198\.18\.0\.\d+$/);
    expect(all).not.toContain(laptopLanAddress);
    expect(deviceAddress(0)).toBe('198.18.0.10');
  });

  it('keeps the second network apart from the LAN', () => {
    expect(laptopSecondAddress.startsWith('198.19.')).toBe(true);
  });

  it('refuses indexes outside the range', () => {
    expect(() => deviceAddress(-1)).toThrow(RangeError);
    expect(() => deviceAddress(maxDevices)).toThrow(RangeError);
    expect(() => deviceAddress(1.5)).toThrow(RangeError);
  });

  it('names bridge ports within the 15-character interface limit', () => {
    expect(deviceLink(maxDevices - 1).length).toBeLessThanOrEqual(15);
  });
});
