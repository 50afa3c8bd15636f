import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { trainByteLevelBpe } from '../../src/tokenizers/bpe-trainer.js';
import { byteAlphabet } from '../../src/tokenizers/byte-level.js';
import { loadTokenizer, saveTokenizer } from '../../src/tokenizers/io.js';
import { InkwellError } from '../../src/utils/errors.js';
import { SAMPLE_BOOKS, tempDir } from '../helpers/books.js';

const CORPUS = Object.values(SAMPLE_BOOKS).map((t) => t.repeat(3));
const PROBES = [
  ...Object.values(SAMPLE_BOOKS),
  'Unseen words: zebra quixotic 12345 — naïve façade 😀 日本語\n\n\ttabs   and  spaces  ',
  'Emma<|endoftext|>Ishmael <|endoftext|> end',
  "it's we're they've I'm we'll he'd",
];

test('trains to the requested size with specials first, then the 256 bytes, deterministically', () => {
  const tok = trainByteLevelBpe(CORPUS, { vocabSize: 400, minFrequency: 1 });
  assert.equal(tok.vocabSize, 400);
  assert.equal(tok.idToToken(0), '<|endoftext|>');
  assert.equal(tok.special.eos, 0);
  assert.deepEqual(byteAlphabet().map((c) => tok.tokenToId(c)), Array.from({ length: 256 }, (_, i) => i + 1));
  const again = trainByteLevelBpe(CORPUS, { vocabSize: 400, minFrequency: 1 });
  assert.equal(again.hash(), tok.hash());
  assert.deepEqual(tok.merges[0], ['h', 'e'], 'the most frequent pair of the fixture merges first');
});

test('round trip is lossless, including unseen bytes and special tokens', () => {
  const tok = trainByteLevelBpe(CORPUS, { vocabSize: 350, minFrequency: 1 });
  for (const text of PROBES) assert.equal(tok.decode(tok.encode(text)), text);
  const ids = tok.encode('a<|endoftext|>b');
  assert.equal(ids[1], 0);
});

test('saved tokenizer.json gives identical ids in @huggingface/tokenizers', () => {
  const dir = tempDir();
  const tok = trainByteLevelBpe(CORPUS, { vocabSize: 420, minFrequency: 1, specialTokens: ['<|endoftext|>', '<|pad|>'] });
  saveTokenizer(tok, dir);
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  assert.equal(json.model.type, 'BPE');
  const hf = new HfTokenizer(json, config);
  for (const text of PROBES) {
    const ours = tok.encode(text);
    assert.deepEqual(hf.encode(text).ids, ours, text);
    assert.equal(hf.decode(ours), text);
  }
  const reloaded = loadTokenizer(dir);
  assert.equal(reloaded.hash(), tok.hash());
  assert.deepEqual(reloaded.encode(PROBES[3]!), tok.encode(PROBES[3]!));
});

test('stops early when no pair reaches min frequency', () => {
  const tok = trainByteLevelBpe(['ab ab ab cd'], { vocabSize: 1000, minFrequency: 2 });
  assert.ok(tok.vocabSize < 300);
  assert.deepEqual(tok.encode('ab'), [tok.tokenToId('ab')]);
});

test('rejects impossible vocabulary sizes', () => {
  assert.throws(() => trainByteLevelBpe(CORPUS, { vocabSize: 100 }), /--vocab-size must be an integer from 257/);
});

/**
 * A miniature GPT-2: byte tokens in GPT-2's order (ids 0-255), six merges and
 * <|endoftext|>, as vocab.json + merges.txt and as tokenizer.json.
 */
function miniGpt2(dir: string): { vocab: Record<string, number>; merges: string[] } {
  const vocab: Record<string, number> = {};
  byteAlphabet().forEach((c, i) => { vocab[c] = i; });
  const merges = ['Ġ t', 'h e', 'Ġt he', 'l l', 'll o', 'he llo'];
  for (const m of merges) vocab[m.replace(' ', '')] = Object.keys(vocab).length;
  vocab['<|endoftext|>'] = Object.keys(vocab).length;
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
  return { vocab, merges };
}

test("loads GPT-2's vocab.json + merges.txt and its tokenizer.json form", () => {
  const dir = tempDir();
  const { vocab, merges } = miniGpt2(dir);
  const fromFiles = loadTokenizer(join(dir, 'vocab.json'));
  assert.equal(fromFiles.vocabSize, 263);
  assert.deepEqual(fromFiles.encode('hello the hex<|endoftext|>'), [261, 258, 220, 257, 87, 262]);
  assert.equal(fromFiles.special.eos, 262);
  assert.equal(fromFiles.decode([261, 258, 262]), 'hello the<|endoftext|>');

  const jsonDir = tempDir();
  const gpt2Json = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [{ id: 262, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, vocab, merges },
  };
  writeFileSync(join(jsonDir, 'tokenizer.json'), JSON.stringify(gpt2Json));
  const fromJson = loadTokenizer(jsonDir);
  const text = 'hello the hex hello<|endoftext|>';
  assert.deepEqual(fromJson.encode(text), fromFiles.encode(text));
  assert.deepEqual(new HfTokenizer(gpt2Json, {}).encode(text).ids, fromJson.encode(text));
});

test('invalid, truncated or unsupported tokenizer files give clear errors and write nothing', () => {
  const dir = tempDir();
  const expectError = (path: string, pattern: RegExp) =>
    assert.throws(() => loadTokenizer(path), (err: unknown) => err instanceof InkwellError && pattern.test(err.message));
  expectError(join(dir, 'nope.json'), /nope\.json does not exist/);
  const good = JSON.stringify(trainByteLevelBpe(CORPUS, { vocabSize: 300, minFrequency: 1 }).toJSON());
  writeFileSync(join(dir, 'truncated.json'), good.slice(0, good.length / 2));
  expectError(join(dir, 'truncated.json'), /truncated\.json is not valid JSON/);
  writeFileSync(join(dir, 'other.json'), JSON.stringify({ model: { type: 'Unigram', vocab: [] } }));
  expectError(join(dir, 'other.json'), /other\.json: unsupported tokenizer model type "Unigram"/);
  const broken = JSON.parse(good);
  broken.model.merges.push('zz qq');
  writeFileSync(join(dir, 'bad-merge.json'), JSON.stringify(broken));
  expectError(join(dir, 'bad-merge.json'), /bad-merge\.json: merge \d+ \("zz qq"\) uses a token missing/);
  const sub = tempDir();
  expectError(sub, /has neither tokenizer\.json nor vocab\.json/);
  assert.equal(existsSync(join(sub, 'tokenizer.json')), false);
  assert.deepEqual(readdirSync(sub), []);
});
