import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { createProgress } from '../utils/progress.js';
import { loadTokenizer, saveTokenizer } from '../tokenizers/io.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { TokenizerSpec } from '../train/presets.js';
import { trainTokenizer } from '../train/run-spec.js';
import { corpusSourcesFromFlags, type CorpusFlags } from './corpus-option.js';
import { tokenizerTexts } from '../corpus/sample.js';
import { intOption, LIMITS } from './options.js';

type TrainFlags = CorpusFlags & {
  type: string;
  out: string;
  vocabSize?: number;
  minFrequency?: number;
  special?: string[];
  lowercase?: boolean;
};

/** `inkwell tokenizer train|encode|decode`. */
export function register(program: Command): void {
  const tok = program.command('tokenizer').description('train and use tokenizers (Hugging Face tokenizer.json)');

  tok.command('train')
    .description('train a char, word or byte-level BPE tokenizer on a corpus')
    .requiredOption('--out <dir>', 'directory for tokenizer.json and tokenizer_config.json')
    .option('--type <type>', 'bpe | char | word', 'bpe')
    .option('--corpus <paths...>', 'files, directories, globs or .zip archives (default: $INKWELL_CORPUS, ../shared/data/gutenberg, the downloaded books, else the bundled ones)')
    .option('--cache <dir>', 'cache directory used when --corpus is absent')
    .option('--no-clean', 'keep the text as it is: Project Gutenberg boilerplate, CR line endings, no NFC')
    .option('--vocab-size <n>', `vocabulary size, up to ${LIMITS.vocab} (bpe default 8000; char/word: no limit)`, intOption(1, LIMITS.vocab))
    .option('--min-frequency <n>', 'ignore pairs/units seen fewer times', intOption(1))
    .option('--special <tokens...>', 'special tokens (bpe default <|endoftext|>; word <pad> <unk> <bos> <eos>; char none)')
    .option('--lowercase', 'word tokenizer: lowercase text')
    .action((opts: TrainFlags) => {
      const docs = corpusSourcesFromFlags(opts);
      const texts = tokenizerTexts(docs, opts.type === 'char' || opts.type === 'word' ? opts.type : 'bpe');
      const started = performance.now();
      const tokenizer = trainFromFlags(texts, opts);
      const path = saveTokenizer(tokenizer, opts.out);
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      console.log(`${opts.type} tokenizer, ${tokenizer.vocabSize} tokens, trained in ${seconds} s on ${docs.length} documents: ${path}`);
    });

  tok.command('encode')
    .description('print the token ids of a text (argument, --file, or standard input)')
    .requiredOption('--tokenizer <path>', 'tokenizer.json, directory, or GPT-2 vocab.json')
    .argument('[text]', 'text to encode')
    .option('--file <path>', 'read the text from a file')
    .option('--tokens', 'print token strings instead of ids')
    .action((text: string | undefined, opts: { tokenizer: string; file?: string; tokens?: boolean }) => {
      const tokenizer = loadTokenizer(opts.tokenizer);
      const ids = tokenizer.encode(inputText(text, opts.file));
      console.log(opts.tokens ? JSON.stringify(ids.map((id) => tokenizer.idToToken(id))) : ids.join(' '));
    });

  tok.command('decode')
    .description('print the text of token ids (arguments or standard input, separated by spaces or commas)')
    .requiredOption('--tokenizer <path>', 'tokenizer.json, directory, or GPT-2 vocab.json')
    .argument('[ids...]', 'token ids')
    .action((ids: string[], opts: { tokenizer: string }) => {
      const tokenizer = loadTokenizer(opts.tokenizer);
      const raw = ids.length > 0 ? ids.join(' ') : inputText(undefined, undefined);
      process.stdout.write(tokenizer.decode(parseIds(raw, tokenizer)) + '\n');
    });
}

/** The flags as a tokenizer spec, trained with a progress bar for BPE merges. */
function trainFromFlags(texts: Iterable<string>, opts: TrainFlags): Tokenizer {
  if (opts.type !== 'bpe' && opts.type !== 'char' && opts.type !== 'word') throw new InkwellError(`--type must be bpe, char or word, got "${opts.type}"`);
  const spec: TokenizerSpec =
    opts.type === 'bpe' ? { type: 'bpe', vocabSize: opts.vocabSize ?? 8000 } : opts.type === 'word' ? { type: 'word', vocabSize: opts.vocabSize ?? Infinity, lowercase: opts.lowercase ?? false } : { type: 'char', vocabSize: opts.vocabSize };
  const progress = createProgress();
  if (spec.type === 'bpe') progress.start(spec.vocabSize, 'merges');
  try {
    return trainTokenizer(texts, spec, {
      specialTokens: opts.special,
      minFrequency: opts.minFrequency,
      onProgress: (done, total) => progress.update(Math.round((done / total) * spec.vocabSize!), `${done}/${total} merges`),
    });
  } finally {
    if (spec.type === 'bpe') progress.stop();
  }
}

function inputText(text: string | undefined, file: string | undefined): string {
  if (text !== undefined) return text;
  const source = file ?? 0;
  if (source === 0 && process.stdin.isTTY) throw new InkwellError('no input', 'give the text as an argument, with --file, or on standard input');
  try {
    return readFileSync(source, 'utf8');
  } catch (err) {
    throw new InkwellError(`cannot read ${file ?? 'standard input'}: ${errorMessage(err)}`);
  }
}

function parseIds(raw: string, tokenizer: Tokenizer): number[] {
  const parts = raw.split(/[\s,[\]]+/).filter((p) => p.length > 0);
  return parts.map((p) => {
    const id = Number(p);
    if (!Number.isInteger(id) || id < 0 || id >= tokenizer.vocabSize) {
      throw new InkwellError(`"${p}" is not a token id (0..${tokenizer.vocabSize - 1})`);
    }
    return id;
  });
}
