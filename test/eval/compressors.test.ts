import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { compressorBaselines, plainText, COMPRESSORS } from '../../src/eval/compressors.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { syntheticText } from '../helpers/corpus.js';

const present = (command: string) => spawnSync(command, ['--version'], { input: '' }).error === undefined;

test('bzip2 -9 and xz -9e bits per character are the system tools\' output sizes over the characters', { skip: present('bzip2') && present('xz') ? false : 'needs the bzip2 and xz-utils Debian packages' }, () => {
  const text = syntheticText(400, 3) + 'naïve café — 東京\n';
  const chars = [...text].length;
  const { scores, unavailable } = compressorBaselines(text, chars);
  assert.deepEqual(unavailable, []);
  assert.deepEqual(scores.map((s) => s.name), ['bzip2 -9', 'xz -9e']);
  const direct = [spawnSync('bzip2', ['-9', '-c'], { input: text }), spawnSync('xz', ['-9e', '-c'], { input: text })];
  scores.forEach((s, i) => {
    assert.equal(s.bytes, direct[i]!.stdout.length);
    assert.equal(s.bitsPerCharacter, (s.bytes * 8) / chars);
    assert.ok(s.bitsPerCharacter < 2, `a repetitive grammar compresses well (${s.name}: ${s.bitsPerCharacter})`);
  });
  const back = spawnSync('bzip2', ['-dc'], { input: spawnSync('bzip2', ['-9', '-c'], { input: text }).stdout });
  assert.equal(back.stdout.toString('utf8'), text, 'the compressor saw the text as UTF-8');
});

test('a compressor that is not installed is reported with its Debian package, not dropped silently', () => {
  const spec = { ...COMPRESSORS[0]!, name: 'nozip -9', command: 'inkwell-no-such-compressor', debianPackage: 'nozip' };
  const { scores, unavailable } = compressorBaselines('some text', 9, [spec]);
  assert.deepEqual(scores, []);
  assert.deepEqual(unavailable, ['nozip -9: `inkwell-no-such-compressor` is not installed (Debian package nozip), so its baseline is missing']);
});

test('plainText leaves out special tokens such as <unk> and document separators', () => {
  const tok = trainWordLevel(['abc'], 'char');
  const ids = tok.encode('a<eos>b£c');
  assert.equal(plainText(tok, ids), 'abc');
});
