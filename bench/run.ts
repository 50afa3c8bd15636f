/**
 * `npm run bench -- <name>...`: runs the named benchmarks (all by default) and
 * prints one JSON object per result on stdout. Speeds are compared with the
 * PyTorch reference (../shared/bench/torch_ref.py) in the same run, as ratios.
 * `quality` (char-gpt against torch_ref.py train, minutes per seed) runs only
 * when named.
 */
import { benchData } from './data.js';
import { benchExport } from './export.js';
import { benchGenerate } from './generate.js';
import { benchMatmul } from './matmul.js';
import { benchQuality } from './quality.js';
import { benchTrain, TRAIN_CONFIGS } from './train.js';

const BENCHES: Record<string, (args: string[]) => Promise<unknown>> = {
  matmul: async () => [await benchMatmul(1024, 1), await benchMatmul(1024)],
  data: () => benchData(),
  train: (args) => benchTrain(args),
  generate: () => benchGenerate(),
  quality: (args) => benchQuality(args),
  export: () => benchExport(),
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (name !== undefined && !(name in BENCHES)) {
    console.error(`unknown benchmark: ${name} (available: ${Object.keys(BENCHES).join(', ')}; train takes config names: ${TRAIN_CONFIGS.map((c) => c.name).join(', ')})`);
    process.exit(2);
  }
  // `quality` trains real models for minutes per seed: only when asked for by name.
  for (const n of name ? [name] : Object.keys(BENCHES).filter((b) => b !== 'quality')) {
    const result = await BENCHES[n]!(name ? args : []);
    for (const r of [result].flat()) console.log(JSON.stringify(r));
  }
}

await main();
