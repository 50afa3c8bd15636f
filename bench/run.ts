/**
 * `npm run bench -- <name>...`: runs the named benchmarks (all by default) and
 * prints one JSON object per benchmark on stdout.
 */
import { benchMatmul } from './matmul.js';
import { benchRnn } from './rnn.js';

const BENCHES: Record<string, () => Promise<unknown>> = {
  matmul: async () => [await benchMatmul(1024, 1), await benchMatmul(1024)],
  rnn: async () => [await benchRnn('lstm'), await benchRnn('gru')],
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length) {
    console.error(`unknown benchmark: ${unknown.join(', ')} (available: ${Object.keys(BENCHES).join(', ')})`);
    process.exit(2);
  }
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    const result = await BENCHES[name]!();
    for (const r of [result].flat()) console.log(JSON.stringify(r));
  }
}

await main();
