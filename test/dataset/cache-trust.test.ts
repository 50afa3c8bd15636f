/**
 * A token cache is not trusted: its sidecar may not point outside the cache,
 * its ids must fit the vocabulary, and a corpus that changed after caching is
 * refused until the user asks for a rebuild. File errors reach the user as
 * one line naming the file the user knows (not a temporary name).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openTokenCacheSplit, prepareTokenCache } from '../../src/dataset/token-cache.js';
import { readCorpus } from '../../src/corpus/corpus.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { InkwellError } from '../../src/utils/errors.js';
import { fsErrorToInkwell, isFsError } from '../../src/utils/fs-errors.js';
import { syntheticText, tmpDir } from '../helpers/corpus.js';
import { runCli } from '../helpers/run-cli.js';

function cache(): { dir: string; tokenizer: ReturnType<typeof trainWordLevel> } {
  const root = tmpDir();
  fs.writeFileSync(path.join(root, 'a.txt'), syntheticText(200, 1));
  fs.writeFileSync(path.join(root, 'b.txt'), syntheticText(100, 2));
  const docs = readCorpus(root);
  const tokenizer = trainWordLevel(docs.map((d) => d.text), 'char', { specialTokens: ['<unk>'] });
  const dir = path.join(root, 'cache');
  prepareTokenCache(docs, tokenizer, dir, { valFraction: 0.3 });
  return { dir, tokenizer };
}

const editMeta = (dir: string, edit: (m: Record<string, any>) => void) => {
  const file = path.join(dir, 'meta.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(m);
  fs.writeFileSync(file, JSON.stringify(m));
};

test("meta.json cannot point a split outside the cache ('../../other/train.bin', an absolute path)", () => {
  for (const file of ['../../other/train.bin', '/etc/passwd', 'sub/../../x.bin']) {
    const { dir, tokenizer } = cache();
    editMeta(dir, (m) => (m.splits.train.file = file));
    assert.throws(() => openTokenCacheSplit(dir, 'train', tokenizer), (e: Error) => e instanceof InkwellError && e.message.includes('meta.json') && /splits\.train\.file/.test(e.message), file);
  }
});

test('a token id at or above the vocabulary size is refused when the cache is opened, naming the file', () => {
  const { dir, tokenizer } = cache();
  const bin = path.join(dir, 'train.bin');
  const ids = fs.readFileSync(bin);
  ids.writeUInt16LE(tokenizer.vocabSize, 10);
  fs.writeFileSync(bin, ids);
  assert.throws(() => openTokenCacheSplit(dir, 'train', tokenizer), (e: Error) => e instanceof InkwellError && e.message.includes(bin) && new RegExp(String(tokenizer.vocabSize)).test(e.message));
  // Streamed (a large file) or read whole, the same check.
  assert.throws(() => openTokenCacheSplit(dir, 'train', tokenizer, 16), (e: Error) => e instanceof InkwellError && e.message.includes(bin));
});

test('train --resume refuses a corpus changed since caching; --rebuild-cache encodes it again', async () => {
  const root = tmpDir();
  const corpus = path.join(root, 'book.txt');
  fs.writeFileSync(corpus, syntheticText(300, 3));
  const config = path.join(root, 'tiny.json');
  fs.writeFileSync(config, JSON.stringify({ model: { nLayer: 1, nEmbd: 16, nHead: 2, nPositions: 16 }, train: { batchSize: 4, contextLength: 16, maxSteps: 2, evalInterval: 2, evalBatches: 1, checkpointInterval: 1, logInterval: 1, threads: 1 } }));
  const out = path.join(root, 'run');
  const first = await runCli(['train', '--preset', 'char-gpt', '--config', config, '--corpus', corpus, '--out', out]);
  assert.equal(first.code, 0, first.stderr);
  fs.writeFileSync(corpus, syntheticText(300, 4));
  const refused = await runCli(['train', '--resume', out, '--steps', '3']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /corpus file .*book\.txt has changed since the token cache .* was built/);
  assert.match(refused.stderr, /--rebuild-cache/);
  const rebuilt = await runCli(['train', '--resume', out, '--steps', '3', '--rebuild-cache']);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  const meta = JSON.parse(fs.readFileSync(path.join(out, 'data', 'meta.json'), 'utf8'));
  assert.equal(meta.corpus.files[0].bytes, fs.statSync(corpus).size);
});

test('file errors become one line naming the path the user knows', () => {
  const err = (code: string, p?: string, syscall = 'open') => Object.assign(new Error(`${code}: x`), { code, syscall, ...(p === undefined ? {} : { path: p }) });
  const say = (e: Error) => {
    assert.ok(isFsError(e));
    const m = fsErrorToInkwell(e as NodeJS.ErrnoException);
    assert.ok(m instanceof InkwellError && !m.message.includes('\n'));
    return m.message;
  };
  assert.match(say(err('ENOSPC', '/run/.model.safetensors.123.abcdef01.tmp')), /no space left .* \/run\/model\.safetensors$/);
  assert.match(say(err('ENOSPC', '/run/best/.config.json.pending')), /\/run\/best\/config\.json$/);
  assert.match(say(err('ENOSPC', undefined, 'write')), /no space left on the device to write a file \(write\)/);
  assert.match(say(err('EROFS', '/mnt/x')), /\/mnt\/x is on a read-only file system/);
  assert.match(say(err('EISDIR', '/d')), /\/d is a directory/);
  assert.match(say(err('ENOTDIR', '/f/x')), /a part of this path is a file/);
  assert.match(say(err('EACCES', '/p')), /permission denied: \/p/);
  assert.match(say(err('EMFILE', '/p')), /too many open files/);
  assert.equal(isFsError(new TypeError('not a file error')), false);
});
