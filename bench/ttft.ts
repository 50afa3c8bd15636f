/**
 * Time to first token for a saved model, in a fresh process (as `inkwell
 * generate` meets it): loading the model directory, creating the decoder's
 * session (quantizing its matrices first when asked), reading the prompt and
 * sampling one token. `node dist/bench/ttft.js DIR PROMPT [q8|q4]` prints one
 * JSON line; module imports are reported apart. Its environment is the caller's: bench/generate.ts
 * runs it as the `inkwell` command would start it (GLIBC_TUNABLES, cli/launcher.ts) and as plain node.
 */
const t0 = performance.now();
const { loadModel } = await import('../src/io/model-dir.js');
const { createDecoder } = await import('../src/generate/decoders.js');
const { generateText } = await import('../src/generate/generate.js');
const t1 = performance.now();

const [dir, prompt, quantize] = process.argv.slice(2);
if (!dir || prompt === undefined || (quantize !== undefined && quantize !== 'q8' && quantize !== 'q4')) throw new Error('usage: ttft.js MODEL_DIR PROMPT [q8|q4]');
const bundle = loadModel(dir, { keepWeights: quantize !== undefined });
const t2 = performance.now();
const decoder = await createDecoder(bundle, 1, { quantize });
const t3 = performance.now();
await generateText({ decoder, tokenizer: bundle.tokenizer }, prompt, { greedy: true, maxNewTokens: 1, stopAtEos: false });
const t4 = performance.now();
await decoder.release();
console.log(JSON.stringify({ imports_ms: t1 - t0, load_ms: t2 - t1, session_ms: t3 - t2, first_token_ms: t4 - t3, ttft_ms: t4 - t1 }));
