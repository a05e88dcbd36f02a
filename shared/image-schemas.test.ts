import { describe, expect, it } from 'vitest';
import { imageResourcesSchema, installFromFileSchema, requestSchemas } from './schemas';

const request = {
  token: 'tok_0123456789abcdefABCD',
  deviceId: '6f1c2a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f',
  name: '  Notes  ',
  memoryMiB: 64,
  disk: 'virtio',
  volumes: [{ name: 'storage', sizeMiB: 64 }],
  ports: [{ guest: 80, host: 8080, protocol: 'tcp', service: '_http._tcp' }],
  bootArgs: '--ipv4=10.0.2.15/24 --ipv4-gateway=10.0.2.2',
  health: { kind: 'http', port: 80, path: '/' },
};

describe('install from a file: schemas', () => {
  it('accepts a full form, trimming the name', () => {
    expect(installFromFileSchema.parse(request)).toMatchObject({ name: 'Notes' });
    expect(requestSchemas['apps:installFromFile']).toBe(installFromFileSchema);
    expect(requestSchemas['apps:chooseImage'].safeParse(undefined).success).toBe(true);
    expect(requestSchemas['apps:chooseImage'].safeParse({ path: '/etc/passwd' }).success).toBe(
      false,
    );
  });

  it('accepts what Hearth suggests for a file once the owner names the ready line', () => {
    expect(
      imageResourcesSchema.safeParse({
        memoryMiB: 32,
        disk: 'ide',
        volumes: [],
        ports: [],
        bootArgs: '',
        health: { kind: 'console', pattern: 'READY' },
      }).success,
    ).toBe(true);
  });

  it.each([
    ['a port health check on an unpublished port', { health: { kind: 'tcp', port: 81 } }],
    ['a volume named like a path', { volumes: [{ name: 'a/b', sizeMiB: 1 }] }],
    ['a zero-size volume', { volumes: [{ name: 'a', sizeMiB: 0 }] }],
    [
      'nine volumes',
      { volumes: Array.from({ length: 9 }, (_, i) => ({ name: `v${i}`, sizeMiB: 1 })) },
    ],
    ['a token with a slash', { token: 'abc/def/ghi/jkl/mno' }],
    ['boot arguments with a control character', { bootArgs: 'a\u001bb' }],
  ])('refuses %s', (_what, change) => {
    expect(installFromFileSchema.safeParse({ ...request, ...change }).success).toBe(false);
  });
});
