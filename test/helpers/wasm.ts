/** The WebAssembly kernels' build check: what scripts/build-wasm.mjs would write for a committed .wat file. */
import fs from 'node:fs';
import initWabt from 'wabt';

/** The base64 of `src/...wat` (a path from the repository root) compiled with SIMD, as the generated *-kernel.ts holds it. */
export async function compiledWat(watPath: string): Promise<string> {
  const wabt = await initWabt();
  const file = new URL(`../../../${watPath}`, import.meta.url);
  const m = wabt.parseWat(watPath, fs.readFileSync(file, 'utf8'), { simd: true });
  const bytes = Buffer.from(m.toBinary({}).buffer);
  m.destroy();
  return bytes.toString('base64');
}
