// The laptop side of the device's root agent: the one command the hearth account may run as
// root (sudoers names it alone, with no wildcard). The agent validates the verb and the app id
// itself; this list is what both sides agree on, and the agent script is generated from it.
import type { AppId } from '../../../shared/ids';
import { isAppId } from '../../../shared/ids';
import { deviceLayout } from './layout';

export const agentVerbs = [
  'start',
  'stop',
  'restart',
  'enable',
  'disable',
  'reset-failed',
] as const;

export type AgentVerb = (typeof agentVerbs)[number];

/** `sudo -n <agent> <verb> <app>`: one shell word each, nothing to quote (both validated). */
export function agentCommand(verb: AgentVerb, appId: AppId): string {
  if (!agentVerbs.includes(verb)) throw new Error(`not an agent verb: ${JSON.stringify(verb)}`);
  if (!isAppId(appId)) throw new Error(`not an app id: ${JSON.stringify(appId)}`);
  return `sudo -n ${deviceLayout.agent} ${verb} ${appId}`;
}
