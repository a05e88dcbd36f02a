// Run on the lab's laptop side by bench/run.ts. With Hearth's real services it prepares a
// factory-fresh device and then, each round (run.ts signed two indexes per round, each later
// than the one before, so no refresh is refused as a replay):
//  - Counter installed from the older index (1.0.0 only), then the newer one (1.0.0 and 2.0.0)
//    served and read, as "Check for updates" does;
//  - Hearth: from the call "Update to 2.0.0" makes (updates:start → UpdateService.start) to the
//    update task's end, committed. The stability window (60 s for owners: a wait, not work) is
//    set to nothing here, so the number is the transaction's own work;
//  - the app's downtime in it: from the end of "Send it to the device" (the next step stops the
//    app) to the end of "Start it and watch it" (the new version's health probe passed);
//  - the baseline: Install click to Running of the same image (2.0.0, now the newest), the app
//    removed with its data first.
// Prints one JSON line.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deviceOptions, laptopHearth, sayVerbose } from './laptop-hearth';

const { values } = parseArgs({
  options: {
    ...deviceOptions,
    /** A JSON file: per round, the older and the newer signed index text. */
    indexes: { type: 'string' },
    /** The test catalog's folder (its catalog.json is what the server hands out). */
    'catalog-dir': { type: 'string' },
  },
});
const appId = values.app;
const say = sayVerbose('update');
const rounds = JSON.parse(readFileSync(values.indexes ?? '', 'utf8')) as {
  older: string;
  newer: string;
}[];
const serve = (text: string) =>
  writeFileSync(join(values['catalog-dir'] ?? '', 'catalog.json'), text);

const hearth = await laptopHearth(values, say, { updateWindowMs: 0 });
const { services, device } = hearth;

const update: number[] = [];
const downtime: number[] = [];
const install: number[] = [];
for (const [i, round] of rounds.entries()) {
  serve(round.older);
  await services.updates.check();
  await hearth.install(appId);
  serve(round.newer);
  const offered = (await services.updates.check()).find((s) => s.appId === appId);
  if (offered?.available?.version !== '2.0.0')
    throw new Error(`the catalog does not offer ${appId} 2.0.0`);

  // As the install baseline, the update downloads afresh.
  rmSync(join(hearth.dir, 'cache', 'artifacts'), { recursive: true, force: true });
  const started = performance.now();
  const { taskId } = await services.updates.start(device.id, appId);
  const task = await hearth.until('the update to end', () => hearth.taskDone(taskId), 5 * 60_000);
  const ms = performance.now() - started;
  const times = hearth.stepDone.get(task.id) ?? [];
  const sent = times[task.steps.findIndex((s) => s.label === 'Send it to the device')];
  const watched = times[task.steps.findIndex((s) => s.label === 'Start it and watch it')];
  if (sent === undefined || watched === undefined) throw new Error('the update skipped steps');
  update.push(ms);
  downtime.push(watched - sent);

  const spec = await hearth.installedSpec(appId);
  if (spec.version !== '2.0.0') throw new Error(`the device runs ${spec.version} after the update`);
  await services.appControl.remove(device.id, appId, spec.name);
  const fresh = await hearth.install(appId, { emptyCache: true });
  install.push(fresh.ms);
  const again = await hearth.installedSpec(appId);
  if (again.sha256 !== spec.sha256) throw new Error('the install put another image on');
  await services.appControl.remove(device.id, appId, again.name);
  say(
    `round ${i + 1}: update ${ms.toFixed(0)} ms (down ${(watched - sent).toFixed(0)} ms), install ${fresh.ms.toFixed(0)} ms`,
  );
}

console.log(JSON.stringify({ update, downtime, install }));
hearth.close();
process.exit(0);
