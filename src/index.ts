/**
 * inkwell's library API. Start with `TextModel` (Keras-shaped: create, compile,
 * fit, evaluate, predict, generate, save/load); the pieces below it are public
 * too, for building models and pipelines of your own.
 */
export { TextModel, type CompileOptions, type FitOptions, type History } from './api/text-model.js';

// Engine: symbolic graphs, autodiff, ONNX, ONNX Runtime
export { Graph, Tensor, GraphError, F, gradients, toOnnx, evaluate as evaluateReference, type DType, type Shape } from './graph/index.js';
export { CompiledGraph, SessionCache, NonFiniteError, type Feeds, type CompileOptions as SessionOptions } from './runtime/session.js';
export { CompiledStep, type StepOptions } from './runtime/step.js';

// Models and parameters
export { Gpt, type GptConfig } from './models/gpt.js';
export { RnnLm, type RnnConfig } from './models/rnn.js';
export { buildTrainGraph, buildEvalGraph, buildForwardGraph, type LanguageModel } from './models/lm.js';
export { zeroState, stateNames, carriesState, type Decoding, type HiddenStates } from './models/lm.js';
export { LoraModel, type LoraConfig } from './models/lora.js';
export { SequenceClassifier, type ClassifierConfig } from './models/classifier.js';
export { ParamScope, initWeights, countParams, type ParamSpecs, type Weights } from './nn/params.js';

// Data and tokenizers
export { readCorpus, type Document } from './corpus/corpus.js';
export { downloadEbooks } from './corpus/download.js';
export { NLTK_GUTENBERG } from './corpus/catalog.js';
export { prepareTokenCache, openTokenCacheSplit } from './dataset/token-cache.js';
export { tokenSourceFromIds, type TokenSource } from './dataset/token-source.js';
export { WindowBatcher, type Batch } from './dataset/batches.js';
export { Dataset } from './dataset/tf-dataset.js';
export { resolveCorpusSpecs, BUNDLED_CORPUS_DIR, type ResolvedCorpus } from './corpus/default-corpus.js';
export { knownWords, wordList, type KnownWordsReport } from './corpus/known-words.js';
export { splitWords } from './tokenizers/word-split.js';
export { trainByteLevelBpe } from './tokenizers/bpe-trainer.js';
export { trainWordLevel } from './tokenizers/word-level.js';
export { loadTokenizer, saveTokenizer } from './tokenizers/io.js';
export type { Tokenizer } from './tokenizers/tokenizer.js';

// Training
export { Trainer, type TrainConfig, type TrainResult } from './train/trainer.js';
export { createOptimizer, clipGradNorm, type OptimizerConfig } from './train/optimizers.js';
export { learningRate, type ScheduleConfig } from './train/schedule.js';
export { PRESETS, type RunSpec } from './train/presets.js';
export { writeTorchRun, launchTorchRun, trainOnTorch, findTorchPython, type TorchRunOptions, type TorchRunFolder, type LaunchOptions } from './scale/torch-run.js';
export { LanguageModelTask, type TrainTask, type TaskBatch, type Evaluation } from './train/task.js';
export { resolveSpec, trainTokenizer, createModel, DEFAULT_SPECIAL_TOKENS } from './train/run-spec.js';

// Generation and evaluation
export { createDecoder } from './generate/decoders.js';
export type { IncrementalDecoder, ChoiceChunks } from './generate/incremental-decoder.js';
export { generate, generateEvents, generateText, generateBatch, type GenerateOptions, type GenerationResult } from './generate/generate.js';
export { TokenSampler, chooseToken, type SamplingOptions, type Filters } from './generate/sampling.js';
export { createSlotDecoder, type SlotDecoder, type SlotFeed } from './generate/slot-decoder.js';
export { evaluatePerplexity, type PerplexityResult } from './eval/perplexity.js';
export { evaluateModelDir } from './eval/evaluate.js';
export { reportMarkdown } from './eval/report.js';
export { compareWithOriginal } from './eval/comparison.js';
export { compressorBaselines, type CompressorScore } from './eval/compressors.js';
export { bleu, rougeL, distinctN } from './eval/text-metrics.js';
export { KneserNeyModel, UnigramModel } from './eval/ngram-lm.js';
export { lineChart } from './eval/plot.js';
export { svgToPng } from './eval/png.js';

// Serving
export { createServer, type ServerOptions, type ServerHandle } from './serve/server.js';
export { Scheduler } from './serve/scheduler.js';

// Files
export { loadModel, saveModel, type ModelBundle } from './io/model-dir.js';
export { bundleFromFiles, modelFiles } from './io/model-files.js';

// Export: transformers.js, ONNX, GGUF, Hugging Face
export { exportModel, EXPORT_FORMATS, type ExportFormat, type ExportOptions, type ExportResult } from './export/index.js';
export { readGguf, parseGguf, type GgufFile, type GgufTensorInfo } from './export/gguf-reader.js';
export type { InferenceJson } from './export/onnx-folder.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
