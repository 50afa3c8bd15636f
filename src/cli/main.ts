#!/bin/sh
//usr/bin/env true; GLIBC_TUNABLES="glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.top_pad=16777216${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"; export GLIBC_TUNABLES; exec node "$0" "$@"
// ^ Run as a program, the shell execs node on this file with glibc malloc settings that start models
// faster; node reads that line as a comment. Why: launcher.ts, whose CLI_GLIBC_TUNABLES a test keeps equal to these.
import { Command } from 'commander';
import { InkwellError } from '../utils/errors.js';
import { fsErrorToInkwell, isFsError } from '../utils/fs-errors.js';

/** Each command's module, loaded only when that command runs (or for the overall --help): a CLI call pays for its own imports alone. */
const COMMANDS: Record<string, () => Promise<{ register(program: Command): void }>> = {
  data: () => import('./data.js'),
  tokenizer: () => import('./tokenizer.js'),
  train: () => import('./train.js'),
  generate: () => import('./generate.js'),
  plot: () => import('./plot.js'),
  eval: () => import('./eval.js'),
  finetune: () => import('./finetune.js'),
  classify: () => import('./classify.js'),
  transfer: () => import('./transfer.js'),
  serve: () => import('./serve.js'),
  web: () => import('./web.js'),
  export: () => import('./export.js'),
};

const program = new Command('inkwell').description('train small language models on Project Gutenberg or your own text');
const asked = process.argv[2];
for (const name of asked !== undefined && asked in COMMANDS ? [asked] : Object.keys(COMMANDS)) (await COMMANDS[name]!()).register(program);

try {
  await program.parseAsync(process.argv);
} catch (caught) {
  // A file-system error is the machine's state (full disk, read-only mount, a file where a folder should be), not a bug.
  const err = isFsError(caught) ? fsErrorToInkwell(caught) : caught;
  if (!(err instanceof InkwellError)) throw err;
  process.stderr.write(`error: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
  process.exitCode = 1;
}
