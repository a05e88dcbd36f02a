// How a running app is held still while a backup copies its volumes, by the runtime its
// spec.json records (`target`, "<runtime>-<arch>"). One shell fragment, used by the snapshot
// worker (volume-scripts.ts) that both the laptop's backups and the device's own (peer) backups
// run, so the two pause an app the same way.
//
// - QEMU: QMP `stop`/`cont` through the app's qmp helper (qemu-launcher.ts). QEMU drains the
//   guest's in-flight I/O before it stops.
// - Solo5 hvt/spt: a tender has no monitor, and no pause of its own. Its helper answers the same
//   commands by SIGSTOP/SIGCONT of the tender process (solo5-launcher.ts). A tender does its
//   guest's block writes as synchronous calls of its own process, so once the signal has taken
//   effect no write is in flight and none can start. The copy therefore holds the volume as it
//   was at one instant: what a power cut at that instant would have left, the same as QEMU's.
//   That is consistent for a guest written to survive a power cut, which is what Solo5 guests
//   must be anyway; nothing stronger is claimed.
// - Xen: `xl pause`/`xl unpause` of the app's domain, which need root: the root agent's
//   `pause`/`resume` verbs (agent-protocol.ts).
//
// The functions need `spec`, `qmp`, `unit` and `app` set, and set `how`, `was`, `paused` and
// `t0` (the pause's start, in ns: what the paused time is measured from).
import type { Runtime } from '../../../shared/runtimes';
import { agentPauseVerbs } from './agent-protocol';
import { deviceLayout } from './layout';

const xen: Runtime = 'xen';
const [pauseVerb, resumeVerb] = agentPauseVerbs;
/** How spec.json (JSON.stringify of the spec, as the installer writes it) names a Xen build. */
const xenTarget = JSON.stringify({ target: `${xen}-` }).slice(1, -2);

export const appPauseFunctions = `# The app's runtime decides how it is paused (app-pause.ts).
app_how() {
  case "$(grep -o '"target":"[a-z0-9]*-' "$spec" 2>/dev/null | head -n 1)" in
    '${xenTarget}') how=xen ;;
    *) how=qmp ;;
  esac
}
# Pauses the app if it runs: was=yes when this paused it. Status 1: the pause failed (paused stays
# yes, since it may have taken effect: it is resumed like any other); 2: the app runs and there
# is no way to pause it (a copy of a live volume is not a backup).
app_pause() {
  was=no
  if [ "$how" = xen ]; then
    systemctl is-active --quiet "$unit" 2>/dev/null || return 0
    paused=yes
    t0=$(date +%s%N)
    said=$(sudo -n ${deviceLayout.agent} ${pauseVerb} "$app") && st=0 || st=$?
    # 2: the agent refused before pausing anything (no xl, no domain): nothing to resume.
    if [ "$st" -ne 0 ]; then [ "$st" -eq 2 ] && paused=no; return 1; fi
    if [ "$said" = paused ]; then was=yes; else paused=no; fi
    return 0
  fi
  if [ -x "$qmp" ]; then
    "$qmp" query-status 2>/dev/null | grep -q '"running": *true' || return 0
    was=yes
    # Marked before asking: a stop that paused but failed to answer must be resumed too.
    paused=yes
    t0=$(date +%s%N)
    "$qmp" stop >/dev/null || return 1
    return 0
  fi
  if systemctl is-active --quiet "$unit" 2>/dev/null; then return 2; fi
  return 0
}
# Resumes what app_pause paused, retried: a QMP socket or xenstore busy for a moment must not
# leave the app paused. Status 1 when it could not.
app_resume() {
  [ "$paused" = yes ] || return 0
  i=0
  while [ $i -lt 5 ]; do
    if [ "$how" = xen ]; then
      sudo -n ${deviceLayout.agent} ${resumeVerb} "$app" >/dev/null && { paused=no; return 0; }
    else
      "$qmp" cont >/dev/null && { paused=no; return 0; }
    fi
    i=$((i + 1)); sleep 1
  done
  return 1
}
`;
