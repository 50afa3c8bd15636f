/** `npm run fuzz [-- --seconds N]`: fuzzes every reader for about N seconds in all and prints the figures as JSON. */
import { fuzzReader, readers } from './readers.js';

const at = process.argv.lastIndexOf('--seconds');
const seconds = at > 0 ? Number(process.argv[at + 1]) : 60;
if (!(seconds > 0)) throw new Error('--seconds must be a positive number');
const all = readers();
const figures: Record<string, { tried: number; failures: string[] }> = {};
const deadline = Date.now() + seconds * 1000;
let round = 0;
// Round-robin in small batches so each reader gets its share of the time.
while (Date.now() < deadline) {
  for (const r of all) {
    const f = (figures[r.name] ??= { tried: 0, failures: [] });
    const { tried, failure } = fuzzReader(r, 200, 1 + round * 7919 + all.indexOf(r));
    f.tried += tried;
    if (failure && f.failures.length < 5) f.failures.push(failure);
  }
  round++;
}
const failures = Object.values(figures).reduce((n, f) => n + f.failures.length, 0);
console.log(JSON.stringify({ seconds, readers: figures, failures, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }, null, 2));
process.exitCode = failures ? 1 : 0;
