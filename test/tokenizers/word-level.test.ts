import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { loadTokenizer, saveTokenizer } from '../../src/tokenizers/io.js';
import { SAMPLE_BOOKS, tempDir } from '../helpers/books.js';

const TEXTS = Object.values(SAMPLE_BOOKS);

function hfFrom(dir: string): HfTokenizer {
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  return new HfTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
}

test('char tokenizer: sorted characters after the specials, lossless round trip, <unk> for unseen', () => {
  const tok = trainWordLevel(TEXTS, 'char');
  assert.equal(tok.kind, 'char');
  assert.deepEqual([0, 1, 2, 3].map((id) => tok.idToToken(id)), ['<pad>', '<unk>', '<bos>', '<eos>']);
  assert.equal(tok.idToToken(4), '\n');
  for (const text of TEXTS) assert.equal(tok.decode(tok.encode(text)), text);
  assert.deepEqual(tok.encode('a§'), [tok.tokenToId('a'), tok.special.unk]);
  assert.deepEqual(tok.encode('a<eos>'), [tok.tokenToId('a'), 3]);
});

test('char tokenizer.json is a WordLevel model that @huggingface/tokenizers encodes identically', () => {
  const dir = tempDir();
  const tok = trainWordLevel(TEXTS, 'char');
  saveTokenizer(tok, dir);
  const hf = hfFrom(dir);
  const text = 'Emma sang, "café?"\n§ done<eos>';
  assert.deepEqual(hf.encode(text).ids, tok.encode(text));
  assert.equal(hf.decode(tok.encode('Emma sang')), 'Emma sang');
  const reloaded = loadTokenizer(dir);
  assert.equal(reloaded.kind, 'char');
  assert.equal(reloaded.hash(), tok.hash());
});

test('word tokenizer: NLP tokens by frequency, min frequency, vocabulary cap and lowercasing', () => {
  const tok = trainWordLevel(TEXTS, 'word', { minFrequency: 1, lowercase: true });
  assert.equal(tok.kind, 'word');
  assert.equal(tok.idToToken(4), '.', 'the most frequent unit comes first');
  const ids = tok.encode("Emma didn't sail.");
  assert.deepEqual(ids.map((id) => tok.idToToken(id)), ['emma', 'did', "n't", 'sail', '.']);
  assert.equal(tok.decode(ids), "emma did n't sail .");
  assert.equal(tok.encode('xylophone')[0], tok.special.unk);
  const capped = trainWordLevel(TEXTS, 'word', { vocabSize: 10, minFrequency: 1 });
  assert.equal(capped.vocabSize, 10);
  const frequent = trainWordLevel(TEXTS, 'word', { minFrequency: 3 });
  assert.ok(frequent.vocabSize < tok.vocabSize);
});

test('word tokenizer.json round-trips and matches @huggingface/tokenizers on ordinary prose', () => {
  const dir = tempDir();
  const tok = trainWordLevel(TEXTS, 'word', { minFrequency: 1, lowercase: true });
  saveTokenizer(tok, dir);
  const reloaded = loadTokenizer(dir);
  assert.equal(reloaded.hash(), tok.hash());
  const text = "The world was handsome, and Emma didn't mind it.";
  assert.deepEqual(hfFrom(dir).encode(text).ids, tok.encode(text));
});

test('a WordLevel tokenizer.json is refused when its split is not inkwell\'s or its unk_token is not in the vocabulary', () => {
  const tok = trainWordLevel(TEXTS, 'word', { minFrequency: 1 });
  const json = tok.toJSON();
  assert.equal(json.model['unk_token'], '<unk>');
  assert.equal(json.model.vocab['<unk>'], tok.special.unk);
  const write = (doc: unknown) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(doc));
    return dir;
  };
  const oldSplit = { ...json, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }] } };
  assert.throws(() => loadTokenizer(write(oldSplit)), /tokenizer\.json: its pre_tokenizer is not inkwell's word split/);
  const { '<unk>': _dropped, ...vocab } = json.model.vocab;
  const renumbered = Object.fromEntries(Object.keys(vocab).map((t, i) => [t, i]));
  const noUnk = { ...json, added_tokens: [], model: { ...json.model, vocab: renumbered } };
  assert.throws(() => loadTokenizer(write(noUnk)), /the unk_token "<unk>" is not in the vocabulary/);
  const legacy = loadTokenizer(write({ ...noUnk, model: { ...noUnk.model, unk_token: null } }));
  assert.equal(legacy.special.unk, undefined);
  assert.throws(() => legacy.encode('xylophone'), /"xylophone" is not in the vocabulary and the tokenizer has no <unk> token/);
  assert.equal(legacy.toJSON().model['unk_token'], null, 'a vocabulary without <unk> declares none');
});
