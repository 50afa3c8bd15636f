/** A Hugging Face GPT-2 directory (tiny, from scripts/make_gpt2_fixture.py) loads as an inkwell model whose logits match PyTorch's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, saveModel } from '../../src/io/model-dir.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { buildForwardGraph } from '../../src/models/lm.js';
import { Gpt } from '../../src/models/gpt.js';
import { CompiledGraph } from '../../src/runtime/session.js';
import { InkwellError } from '../../src/utils/errors.js';
import { assertClose } from '../helpers/check.js';
import { tmpDir } from '../helpers/corpus.js';

/** Fixtures live in the source tree; compiled tests run from dist/test/models/. */
const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/hf-gpt2', import.meta.url));
const expected = JSON.parse(fs.readFileSync(`${FIXTURE}/../hf-gpt2-expected.json`, 'utf8')) as { text: string; ids: number[]; logits: { shape: number[]; data: number[] } };

function copyFixture(): string {
  const dir = tmpDir();
  for (const f of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
  return dir;
}

test('GPT-2 from the Hub layout (no transformer. prefix, attn.bias buffers, tied lm_head, vocab.json + merges.txt) matches PyTorch within 1e-4', async () => {
  const b = loadModel(FIXTURE);
  assert.ok(b.model instanceof Gpt);
  assert.equal(b.model.config.nPositions, 32);
  assert.deepEqual(b.tokenizer.encode(expected.text), expected.ids);
  const T = expected.ids.length;
  const { graph, outputs } = buildForwardGraph(b.model, 1, T);
  const c = await CompiledGraph.compile(graph, outputs, { threads: 1 });
  const out = await c.run({ ...Object.fromEntries(b.weights), ids: BigInt64Array.from(expected.ids, BigInt) });
  await c.release();
  assertClose(out.logits!, expected.logits.data, 'logits', 1e-4, 1e-4);
});

test('an imported GPT-2 saves under inkwell names and reloads with the same weights', () => {
  const b = loadModel(FIXTURE);
  const dir = tmpDir();
  saveModel(dir, b);
  const names = [...readSafetensors(path.join(dir, 'model.safetensors')).tensors.keys()];
  assert.ok(names.includes('transformer.h.0.attn.c_attn.weight') && !names.some((n) => n.endsWith('attn.bias') && !n.includes('c_')) && !names.includes('lm_head.weight'));
  const again = loadModel(dir);
  for (const [k, v] of b.weights) assert.deepEqual(again.weights.get(k), v, k);
});

test('an untied lm_head, an unsupported config or a missing merges.txt is a clear error', () => {
  const untied = copyFixture();
  const file = path.join(untied, 'model.safetensors');
  const { tensors } = readSafetensors(file);
  const head = tensors.get('lm_head.weight')!;
  head.data[0]! += 1;
  writeSafetensors(file, tensors);
  assert.throws(() => loadModel(untied), (e: Error) => e instanceof InkwellError && /lm_head\.weight differs from wte\.weight/.test(e.message));

  const scaled = copyFixture();
  const cfg = JSON.parse(fs.readFileSync(path.join(scaled, 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(scaled, 'config.json'), JSON.stringify({ ...cfg, scale_attn_by_inverse_layer_idx: true }));
  assert.throws(() => loadModel(scaled), /config\.json: scale_attn_by_inverse_layer_idx=true is not supported/);

  const noMerges = copyFixture();
  fs.rmSync(path.join(noMerges, 'merges.txt'));
  assert.throws(() => loadModel(noMerges), /has neither tokenizer\.json nor vocab\.json \+ merges\.txt/);
});
