// The systemd sandbox of every unit Hearth installs (the apps, the backups to another device):
// it may write `writable` and nothing else of the device, sees no home folders and no one else's
// /tmp, can never gain privileges, and gets only the socket families QEMU, QMP, ssh and restic
// use. One list, so a unit never ends up with less than the others.
// `writable` null: nothing at all (a proxy that only passes bytes on).
export function unitSandbox(writable: string | null): string {
  return `NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
${writable === null ? '' : `ReadWritePaths=${writable}\n`}ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictNamespaces=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native`;
}
