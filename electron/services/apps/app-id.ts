// An app id for an app the owner names: lower-case letters, digits and dashes, starting with
// a letter (it becomes a folder, a systemd instance and a QEMU name), and not already used on
// the device, so a new app never steps on another's files or kept data.
import { HearthError } from '../../../shared/errors';
import { SHORT_NAME_MAX } from '../../../shared/ids';

export function appIdBase(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const lettered = /^[a-z]/.test(slug) ? slug : `app-${slug}`.replace(/-+$/, '');
  // Room for a "-99" suffix.
  return lettered.slice(0, SHORT_NAME_MAX - 3).replace(/-+$/, '') || 'app';
}

/** The first of base, base-2, base-3, … that `taken` does not hold. */
export function freeAppId(name: string, taken: ReadonlySet<string>): string {
  const base = appIdBase(name);
  if (!taken.has(base)) return base;
  for (let n = 2; n < 100; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
  throw new HearthError('APP_ID_TAKEN');
}
