#!/usr/bin/env node
import { Command } from 'commander';
import { InkwellError } from '../utils/errors.js';
import { register as registerData } from './data.js';
import { register as registerTokenizer } from './tokenizer.js';
import { register as registerTrain } from './train.js';
import { register as registerGenerate } from './generate.js';
import { register as registerPlot } from './plot.js';
import { register as registerEval } from './eval.js';
import { register as registerFinetune } from './finetune.js';
import { register as registerClassify } from './classify.js';
import { register as registerTransfer } from './transfer.js';

const program = new Command('inkwell').description('train small language models on Project Gutenberg or your own text');
registerData(program);
registerTokenizer(program);
registerTrain(program);
registerGenerate(program);
registerPlot(program);
registerEval(program);
registerFinetune(program);
registerClassify(program);
registerTransfer(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof InkwellError)) throw err;
  process.stderr.write(`error: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
  process.exitCode = 1;
}
