// spec.json on the device: what was deployed, so any laptop (or a reinstalled Hearth) can
// tell what an app is and how it was launched. Parsed strictly: it comes from the device.
import { z } from 'zod';
import { shortNamePattern } from '../../../shared/ids';

export const appSpecSchema = z.object({
  appId: z.string().regex(shortNamePattern),
  name: z.string().min(1).max(64),
  version: z.string().max(32),
  target: z.string().max(32),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  initrdSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  disk: z.enum(['ide', 'virtio']),
  memoryMiB: z.number().int().min(8).max(65536),
  volumes: z
    .array(
      z.object({
        name: z.string().regex(shortNamePattern),
        sizeMiB: z.number().int().min(1),
      }),
    )
    .max(16),
  ports: z
    .array(
      z.object({
        name: z.string().max(32),
        guest: z.number().int().min(1).max(65535),
        host: z.number().int().min(1).max(65535),
        protocol: z.enum(['tcp', 'udp']),
        service: z.string().max(64).optional(),
        path: z.string().max(256).optional(),
      }),
    )
    .max(16),
  bootArgs: z.string().max(2048),
  health: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('console'), pattern: z.string().min(1).max(200) }),
    z.object({ kind: z.literal('tcp'), port: z.number().int() }),
    z.object({ kind: z.literal('http'), port: z.number().int(), path: z.string().max(256) }),
  ]),
  accel: z.enum(['kvm', 'tcg']),
  installedAt: z.string().max(40),
});

export type AppSpec = z.infer<typeof appSpecSchema>;

export function parseAppSpec(text: string): AppSpec | null {
  try {
    const parsed = appSpecSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
