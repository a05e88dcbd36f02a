// The names Icon.svelte can draw; in a .ts file so every importer sees a real type.
export type IconName =
  | 'devices'
  | 'apps'
  | 'backups'
  | 'activity'
  | 'check'
  | 'check-circle'
  | 'warning'
  | 'failed'
  | 'pending'
  | 'running'
  | 'skipped'
  | 'stopped'
  | 'info'
  | 'close';
