// Validation for everything that enters main from the renderer. One schema per invoke
// channel; the type tests in ipc.test-d.ts keep this map and ipc.ts in step.
import { z } from 'zod';

export const taskIdSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, 'not a task id');

export const settingsSchema = z.strictObject({
  theme: z.enum(['system', 'light', 'dark']),
  welcomeDone: z.boolean(),
});

export const settingsPatchSchema = settingsSchema.partial();

const none = z.undefined();

export const requestSchemas = {
  'app:info': none,
  'settings:get': none,
  'settings:update': settingsPatchSchema,
  'tasks:list': none,
  'tasks:cancel': z.strictObject({ id: taskIdSchema }),
  'tasks:clearFinished': none,
  'checks:run': none,
} as const;
