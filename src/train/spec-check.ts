/**
 * Field-by-field checks of a run's training settings, wherever they come from
 * (a --config JSON file, a preset with overrides, a checkpoint's
 * trainer_state.json): every error names the file and the field, e.g.
 * "runs/x/run.json: 'train.schedule.lr' must be a finite number in [0, 10]".
 */
import { describeRange, inRange, type FieldRange } from '../models/config-json.js';
import { InkwellError } from '../utils/errors.js';
import { LIMITS } from '../utils/limits.js';
import type { TrainConfig } from './trainer.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Checks `obj[key]`: `required` fields must be present; present ones must be in range. */
function field(obj: Json, key: string, path: string, source: string, range: FieldRange, required = false): void {
  const v = obj[key];
  if (v === undefined && !required) return;
  if (!inRange(v, range)) throw new InkwellError(`${source}: '${path}${key}' must be ${describeRange(range)}, got ${JSON.stringify(v) ?? 'nothing'}`);
}

function oneOf(obj: Json, key: string, path: string, source: string, values: readonly string[], required = false): void {
  const v = obj[key];
  if (v === undefined && !required) return;
  if (typeof v !== 'string' || !values.includes(v)) throw new InkwellError(`${source}: '${path}${key}' must be one of ${values.join(', ')}, got ${JSON.stringify(v) ?? 'nothing'}`);
}

function section(obj: Json, key: string, path: string, source: string): Json {
  const v = obj[key];
  if (!isObject(v)) throw new InkwellError(`${source}: '${path}${key}' ${v === undefined ? 'is missing' : 'must be an object'}`, 'start from a --preset or write the section in --config');
  return v;
}

const count = (max: number = LIMITS.count): FieldRange => ({ integer: true, min: 1, max });
const natural: FieldRange = { integer: true, min: 0, max: LIMITS.count };

/** A TrainConfig's fields; `path` prefixes field names (e.g. 'train.'). */
export function checkTrainConfig(raw: unknown, source: string, path = ''): asserts raw is TrainConfig {
  if (!isObject(raw)) throw new InkwellError(`${source}: '${path || 'train'}' must be an object`);
  const t = raw;
  field(t, 'batchSize', path, source, count(LIMITS.batch), true);
  field(t, 'contextLength', path, source, count(LIMITS.context), true);
  field(t, 'maxSteps', path, source, count(), true);
  field(t, 'gradAccum', path, source, count(LIMITS.batch));
  const opt = section(t, 'optimizer', path, source);
  oneOf(opt, 'name', `${path}optimizer.`, source, ['adamw', 'adam', 'sgd', 'rmsprop'], true);
  if (opt.betas !== undefined) {
    if (!Array.isArray(opt.betas) || opt.betas.length !== 2 || !opt.betas.every((b) => inRange(b, { min: 0, max: 1, maxExclusive: true }))) {
      throw new InkwellError(`${source}: '${path}optimizer.betas' must be two numbers in [0, 1), got ${JSON.stringify(opt.betas)}`);
    }
  }
  field(opt, 'eps', `${path}optimizer.`, source, { min: 0, minExclusive: true, max: 1 });
  field(opt, 'weightDecay', `${path}optimizer.`, source, { min: 0, max: 10 });
  field(opt, 'momentum', `${path}optimizer.`, source, { min: 0, max: 1, maxExclusive: true });
  field(opt, 'alpha', `${path}optimizer.`, source, { min: 0, max: 1, maxExclusive: true });
  const sched = section(t, 'schedule', path, source);
  field(sched, 'lr', `${path}schedule.`, source, { min: 0, max: 10 }, true);
  field(sched, 'warmupSteps', `${path}schedule.`, source, natural);
  oneOf(sched, 'decay', `${path}schedule.`, source, ['cosine', 'constant']);
  field(sched, 'decaySteps', `${path}schedule.`, source, natural);
  field(sched, 'minLr', `${path}schedule.`, source, { min: 0, max: 10 });
  field(t, 'gradClip', path, source, { min: 0, max: 1e6 });
  field(t, 'evalInterval', path, source, natural);
  field(t, 'evalBatches', path, source, count(1e6));
  field(t, 'patience', path, source, natural);
  field(t, 'checkpointInterval', path, source, count());
  field(t, 'logInterval', path, source, count());
  oneOf(t, 'sampling', path, source, ['random', 'sequential']);
  field(t, 'seed', path, source, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER }, true);
  field(t, 'threads', path, source, count(4096));
  if (t.trainable !== undefined && !(Array.isArray(t.trainable) && t.trainable.every((n) => typeof n === 'string'))) {
    throw new InkwellError(`${source}: '${path}trainable' must be a list of parameter names`);
  }
  if (t.lrScale !== undefined && !(isObject(t.lrScale) && Object.values(t.lrScale).every((v) => inRange(v, { min: 0, max: 1e6 })))) {
    throw new InkwellError(`${source}: '${path}lrScale' must map parameter names to finite numbers ≥ 0`);
  }
}

/** A whole run spec: tokenizer, model and train sections, checked before anything is built from them. */
export function checkRunSpec(spec: Json, source: string): void {
  const tok = section(spec, 'tokenizer', '', source);
  oneOf(tok, 'type', 'tokenizer.', source, ['bpe', 'char', 'word'], true);
  field(tok, 'vocabSize', 'tokenizer.', source, count(LIMITS.vocab), tok.type !== 'char');
  field(tok, 'minFrequency', 'tokenizer.', source, count());
  const model = section(spec, 'model', '', source);
  oneOf(model, 'type', 'model.', source, ['gpt', 'rnn'], true);
  if (model.type === 'gpt') {
    field(model, 'nPositions', 'model.', source, count(LIMITS.context), true);
    field(model, 'nEmbd', 'model.', source, count(LIMITS.width), true);
    field(model, 'nLayer', 'model.', source, count(LIMITS.layers), true);
    field(model, 'nHead', 'model.', source, count(LIMITS.width), true);
    if ((model.nEmbd as number) % (model.nHead as number) !== 0) throw new InkwellError(`${source}: 'model.nHead' (${String(model.nHead)}) must divide 'model.nEmbd' (${String(model.nEmbd)})`);
    field(model, 'dropout', 'model.', source, { min: 0, max: 1, maxExclusive: true }, true);
    field(model, 'layerNormEps', 'model.', source, { min: 0, minExclusive: true, max: 1 }, true);
  } else {
    oneOf(model, 'cell', 'model.', source, ['lstm', 'gru'], true);
    field(model, 'embeddingDim', 'model.', source, count(LIMITS.width), true);
    field(model, 'hiddenSize', 'model.', source, count(LIMITS.width), true);
    field(model, 'numLayers', 'model.', source, count(LIMITS.layers), true);
    field(model, 'dropout', 'model.', source, { min: 0, max: 1, maxExclusive: true }, true);
  }
  field(spec, 'valFraction', '', source, { min: 0, max: 1, maxExclusive: true });
  checkTrainConfig(section(spec, 'train', '', source), source, 'train.');
}

/** trainer_state.json: the counters, RNG state and the config of the run it resumes. */
export function checkTrainerState(s: unknown, file: string): void {
  if (!isObject(s) || s.version !== 1) throw new InkwellError(`${file} is not an inkwell trainer state (no "version": 1)`);
  field(s, 'step', '', file, natural, true);
  if (!(s.bestValLoss === null || inRange(s.bestValLoss, {}))) throw new InkwellError(`${file}: 'bestValLoss' must be null or a finite number`);
  if (!(s.bestScore === undefined || s.bestScore === null || inRange(s.bestScore, {}))) throw new InkwellError(`${file}: 'bestScore' must be null or a finite number`);
  if (!(s.bestStep === null || inRange(s.bestStep, natural))) throw new InkwellError(`${file}: 'bestStep' must be null or a step number`);
  field(s, 'evalsWithoutImprovement', '', file, natural, true);
  field(s, 'elapsedSeconds', '', file, { min: 0 }, true);
  const rng = s.rng;
  if (!Array.isArray(rng) || rng.length !== 4 || !rng.every((v) => inRange(v, { integer: true, min: 0, max: 2 ** 32 - 1 })) || rng.every((v) => v === 0)) {
    throw new InkwellError(`${file}: 'rng' must be four uint32s, not all zero`);
  }
  if (!s.data || typeof s.data !== 'object') throw new InkwellError(`${file}: 'data' (the data position) must be an object`);
  checkTrainConfig(s.config, file, 'config.');
}
