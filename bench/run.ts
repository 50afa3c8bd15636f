/**
 * `npm run bench -- <name>...`: runs the named benchmarks (all by default) and
 * prints one JSON object per result on stdout; `profile` says where a training
 * step's and a decoding token's time goes (ONNX Runtime's per-node profile). Speeds are compared with the
 * PyTorch reference (../shared/bench/torch_ref.py) in the same run, as ratios.
 * `quality` (char-gpt against torch_ref.py train, minutes per seed) and `serve`
 * (inkwell serve under load, minutes) run only when named.
 */
import { benchBrowser } from './browser.js';
import { benchData } from './data.js';
import { benchExport } from './export.js';
import { benchGenerate } from './generate.js';
import { benchMatmul } from './matmul.js';
import { benchProfile } from './profile.js';
import { benchQuality } from './quality.js';
import { benchServe } from './serve.js';
import { benchTrain, TRAIN_CONFIGS } from './train.js';

const BENCHES: Record<string, (args: string[]) => Promise<unknown>> = {
  matmul: async () => [await benchMatmul(1024, 1), await benchMatmul(1024)],
  data: () => benchData(),
  train: (args) => benchTrain(args),
  generate: () => benchGenerate(),
  profile: (args) => benchProfile(args),
  quality: (args) => benchQuality(args),
  serve: () => benchServe(),
  browser: () => benchBrowser(),
  export: () => benchExport(),
};

/** Minutes of load each: run only when asked for by name. */
const ONLY_WHEN_NAMED = ['quality', 'serve'];

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (name !== undefined && !(name in BENCHES)) {
    console.error(`unknown benchmark: ${name} (available: ${Object.keys(BENCHES).join(', ')}; train takes config names: ${TRAIN_CONFIGS.map((c) => c.name).join(', ')})`);
    process.exit(2);
  }
  for (const n of name ? [name] : Object.keys(BENCHES).filter((b) => !ONLY_WHEN_NAMED.includes(b))) {
    const result = await BENCHES[n]!(name ? args : []);
    for (const r of [result].flat()) console.log(JSON.stringify(r));
  }
}

await main();
