// Run on the lab's laptop side by bench/run.ts for the sleep rows: a visitor's HTTP requests,
// timed in this one process (no process start in any number). For each --url in turn, the first
// request (its whole answer read); then, for the first --url, --awake more requests to the app
// it has just woken. Prints one JSON line: { first: [ms per url], awake: [ms] }.
import { get } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string', multiple: true, default: [] },
    awake: { type: 'string', default: '0' },
    'timeout-s': { type: 'string', default: '300' },
  },
});

/** One visitor: a new connection (no agent keeps one alive), the whole answer read. */
function visit(url: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, timeout: Number(values['timeout-s']) * 1000 }, (r) => {
      r.resume();
      r.on('end', () =>
        r.statusCode === 200
          ? resolve(performance.now() - started)
          : reject(new Error(`${url} answered ${r.statusCode}`)),
      );
      r.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${url} did not answer`)));
    request.on('error', reject);
  });
}

const first: number[] = [];
for (const url of values.url) first.push(await visit(url));
const awake: number[] = [];
const again = values.url[0];
if (again) for (let i = 0; i < Number(values.awake); i++) awake.push(await visit(again));
console.log(JSON.stringify({ first, awake }));
