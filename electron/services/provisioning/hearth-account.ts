// Whether an existing `hearth` account is the one Hearth made. Provisioning makes a system
// account (uid below 1000) with its home at /home/hearth; a person's account of that name, or one
// living elsewhere (another program's, or one made to catch Hearth's key and rights), is refused
// rather than adopted: adopting it would hand Hearth's sudo rule to whoever owns it.
import { HearthError } from '../../../shared/errors';
import { HEARTH_HOME, HEARTH_USER } from '../device/layout';

/** useradd --system picks uids below this (login.defs SYS_UID_MAX is 999 on Debian). */
const FIRST_PERSON_UID = 1000;

/** null: there is no hearth account yet. Throws HEARTH_ACCOUNT_TAKEN for one Hearth did not make. */
export function checkHearthAccount(getent: { code: number | null; stdout: string }): {
  uid: number;
} | null {
  // getent exits 2 for "no such entry".
  if (getent.code !== 0 && getent.stdout.trim() === '') return null;
  const fields = getent.stdout.trim().split('\n')[0]?.split(':') ?? [];
  const [name, , uidText = '', , , home = ''] = fields;
  const uid = /^\d{1,10}$/.test(uidText) ? Number(uidText) : Number.NaN;
  if (name !== HEARTH_USER || fields.length !== 7 || !Number.isInteger(uid))
    throw new HearthError('DEVICE_GARBLED');
  if (uid === 0 || uid >= FIRST_PERSON_UID)
    throw new HearthError(
      'HEARTH_ACCOUNT_TAKEN',
      `This device already has an account called hearth that Hearth did not make (it is ${uid === 0 ? 'an administrator account' : "a person's account"}, uid ${uid}), so Hearth left it alone. Remove or rename that account, then prepare the device again.`,
    );
  if (home !== HEARTH_HOME)
    throw new HearthError(
      'HEARTH_ACCOUNT_TAKEN',
      `This device already has an account called hearth that Hearth did not make (its home is ${home.slice(0, 80) || 'not set'}, not ${HEARTH_HOME}), so Hearth left it alone. Remove or rename that account, then prepare the device again.`,
    );
  return { uid };
}
