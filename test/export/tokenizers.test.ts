import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { exportModel, type ExportFormat } from '../../src/export/index.js';
import { saveModel } from '../../src/io/model-dir.js';
import { RnnLm } from '../../src/models/rnn.js';
import { initWeights } from '../../src/nn/params.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { tempDir } from '../helpers/books.js';
import { bpeGpt, charGpt, charRnn, PROBE, type Fixture } from './fixtures.js';

function wordRnn(): Fixture {
  const tokenizer = trainWordLevel([PROBE.repeat(2) + ' the cat sees a dog'], 'word');
  const model = new RnnLm({ cell: 'gru', vocabSize: tokenizer.vocabSize, embeddingDim: 8, hiddenSize: 8, numLayers: 1, dropout: 0, tieWeights: false });
  const dir = path.join(tempDir(), 'word');
  const bundle = { model, weights: initWeights(model.specs, 1), tokenizer };
  saveModel(dir, bundle);
  return { dir, bundle };
}

const read = (dir: string, f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));

test('every exported tokenizer.json gives inkwell\'s ids in @huggingface/tokenizers on accents, emoji, CRLF and tabs', async () => {
  const cases: Array<[string, Fixture, ExportFormat[]]> = [
    ['byte-level BPE', await bpeGpt(), ['transformers.js', 'onnx', 'hf']],
    ['char', charRnn('lstm'), ['onnx', 'hf']],
    ['char (GPT)', charGpt(), ['transformers.js']],
    ['word', wordRnn(), ['onnx', 'hf']],
  ];
  for (const [kind, f, formats] of cases) {
    const ours = f.bundle.tokenizer.encode(PROBE);
    assert.ok(ours.length > 10);
    for (const format of formats) {
      const out = path.join(path.dirname(f.dir), `tok-${format}`);
      await exportModel(f.dir, { format, out });
      const hf = new HfTokenizer(read(out, 'tokenizer.json'), read(out, 'tokenizer_config.json'));
      assert.deepEqual(hf.encode(PROBE).ids, ours, `${kind} tokenizer in the ${format} folder`);
    }
  }
});
