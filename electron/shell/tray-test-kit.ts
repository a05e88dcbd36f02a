// Test support: alerts and snapshots as the alert service publishes them.
import type { Alert, AlertsSnapshot } from '../../shared/model';
import { PI_ID } from '../services/alerts/alerts-test-kit';

export function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    key: `app:${PI_ID}/calendar`,
    kind: 'app-gave-up',
    severity: 'problem',
    message: 'Calendar kept stopping, so Hearth stopped restarting it.',
    action: {
      label: 'Open its console',
      target: { view: 'apps', deviceId: PI_ID, appId: 'calendar' },
    },
    raisedAt: 1_000,
    resolvedAt: null,
    deviceId: PI_ID,
    appId: 'calendar',
    ...overrides,
  };
}

export function snapshot(open: Alert[], summary = '1 device, 1 app running'): AlertsSnapshot {
  const overall = open.some((a) => a.severity === 'problem')
    ? 'problem'
    : open.some((a) => a.severity === 'warning')
      ? 'needs-attention'
      : 'all-well';
  return { open, history: [], overall, summary };
}
