// The household at a glance, for the tray: one state and one line.
import type { Alert, InstalledApp, OverallState } from '../../../shared/model';

const RANK = { problem: 0, warning: 1, info: 2 } as const;

/** Worst first, then newest: what the owner should look at first is on top. */
export function byUrgency(a: Alert, b: Alert): number {
  return RANK[a.severity] - RANK[b.severity] || b.raisedAt - a.raisedAt;
}

/** Info alerts (an update on offer) do not change the tray: nothing needs the owner. */
export function overallOf(open: readonly Alert[]): OverallState {
  if (open.some((a) => a.severity === 'problem')) return 'problem';
  if (open.some((a) => a.severity === 'warning')) return 'needs-attention';
  return 'all-well';
}

export function summaryOf(deviceCount: number, apps: readonly InstalledApp[]): string {
  const running = apps.filter((a) => a.state === 'running').length;
  const devices = `${deviceCount} ${deviceCount === 1 ? 'device' : 'devices'}`;
  return `${devices}, ${running} ${running === 1 ? 'app' : 'apps'} running`;
}
