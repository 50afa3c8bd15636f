/** The README of an `--format onnx` folder: what goes in and out, and an example that runs as written (the tests run it). */
import type { InferenceJson, TensorInfo } from './onnx-folder.js';

/** The example, a self-contained ES module (Node; in a browser, read the files with fetch instead of readFileSync). */
export const ONNX_EXAMPLE = `import fs from 'node:fs';
import * as ort from 'onnxruntime-web'; // or 'onnxruntime-node': the same API
import { Tokenizer } from '@huggingface/tokenizers';

const read = (file) => fs.readFileSync(new URL(file, import.meta.url));
const json = (file) => JSON.parse(read(file).toString('utf8'));
const info = json('./inference.json');
const tokenizer = new Tokenizer(json('./tokenizer.json'), json('./tokenizer_config.json'));
const session = await ort.InferenceSession.create(read('./model.onnx'));
const has = (name) => info.inputs.some((i) => i.name === name);
const int64 = (values) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);
const zeros = (shape) => new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

const prompt = tokenizer.encode(process.argv[2] ?? 'The ').ids;
const maxNew = Math.min(Number(process.argv[3] ?? 40), (info.context_length ?? Infinity) - prompt.length);
let state = Object.fromEntries(info.state.map((s) => [s.input, zeros(s.initial_shape)]));
let fresh = prompt; // tokens the model has not seen yet: the prompt, then one token per step
let seen = 0;
const generated = [];
while (generated.length < maxNew) {
  const feeds = { ...state, [has('input_ids') ? 'input_ids' : 'ids']: int64(fresh) };
  if (has('attention_mask')) feeds.attention_mask = int64(Array(seen + fresh.length).fill(1));
  if (has('position_ids')) feeds.position_ids = int64(fresh.map((_, t) => seen + t));
  const out = await session.run(feeds);
  const V = out.logits.dims[2];
  const last = out.logits.data.subarray((fresh.length - 1) * V, fresh.length * V);
  let next = 0; // greedy: the most likely token
  for (let v = 1; v < V; v++) if (last[v] > last[next]) next = v;
  state = Object.fromEntries(info.state.map((s) => [s.input, out[s.output]]));
  seen += fresh.length;
  if (next === info.eos_token_id) break;
  generated.push(next);
  fresh = [next];
}
console.log(tokenizer.decode([...prompt, ...generated]));
`;

const row = (t: TensorInfo) => `| \`${t.name}\` | ${t.type} | [${t.shape.join(', ')}] | ${t.description} |`;

export function onnxFolderReadme(info: InferenceJson): string {
  const contrib = info.domains.length ? ` It uses onnxruntime's contrib operators (${info.domains.join(', ')}), which onnxruntime-web and onnxruntime-node both implement.` : '';
  return `# ${info.model_type} decoder (ONNX, exported by inkwell)

\`model.onnx\` is a self-contained decoder (weights inside, opset ${info.opset}).${contrib}
\`inference.json\` describes the same inputs and outputs for programs; \`tokenizer.json\`
is a Hugging Face tokenizer (\`@huggingface/tokenizers\`, transformers.js, Python \`tokenizers\`).

## Inputs

| name | type | shape | meaning |
|---|---|---|---|
${info.inputs.map(row).join('\n')}

## Outputs

| name | type | shape | meaning |
|---|---|---|---|
${info.outputs.map(row).join('\n')}

## Generating

Feed the prompt once, then one token per call. After each call, every output
listed under \`state\` in \`inference.json\` goes back in as its input (${info.state.length} tensors,
starting from zeros of \`initial_shape\`${info.state.some((s) => s.initial_shape.includes(0)) ? ': the key/value cache starts zero-length' : ''}).
${info.context_length ? `The context is ${info.context_length} tokens (prompt + generated).` : 'A recurrent model has no context limit.'}

## Example (greedy, onnxruntime-web in Node)

\`npm install onnxruntime-web @huggingface/tokenizers\`, save this next to the files as
\`example.mjs\` and run \`node example.mjs "Once upon a time" 40\`:

\`\`\`js
${ONNX_EXAMPLE}\`\`\`
`;
}
