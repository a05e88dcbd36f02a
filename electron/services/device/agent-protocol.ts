// The laptop side of the device's root agent: the one command the hearth account may run as
// root (sudoers names it alone, with no wildcard). The agent validates the verb and the app id
// itself; these lists are what both sides agree on, and the agent script (agent-script.ts) is
// generated from them. Later verbs (pause/resume, tap devices) are added here and there.
import type { AppId } from '../../../shared/ids';
import { isAppId } from '../../../shared/ids';
import { deviceLayout } from './layout';

/** Verbs the agent turns into `systemctl <verb> hearth-app@<id>.service`. */
export const agentUnitVerbs = [
  'start',
  'stop',
  'restart',
  'enable',
  'disable',
  'reset-failed',
] as const;

/** Verbs that write or remove an app's avahi file; the app's unit runs them (appUnitTemplate). */
export const agentAvahiVerbs = ['advertise', 'withdraw'] as const;

export const agentVerbs = [...agentUnitVerbs, ...agentAvahiVerbs] as const;

export type AgentVerb = (typeof agentVerbs)[number];

/** `sudo -n <agent> <verb> <app>`: one shell word each, nothing to quote (both validated). */
export function agentCommand(verb: AgentVerb, appId: AppId): string {
  if (!agentVerbs.includes(verb)) throw new Error(`not an agent verb: ${JSON.stringify(verb)}`);
  if (!isAppId(appId)) throw new Error(`not an app id: ${JSON.stringify(appId)}`);
  return `sudo -n ${deviceLayout.agent} ${verb} ${appId}`;
}
