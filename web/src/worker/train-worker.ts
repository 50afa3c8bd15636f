/**
 * The Web Worker of "Train in your browser": trains, generates and zips off
 * the page's thread, so the page stays responsive. It keeps the run in
 * IndexedDB every SAVE_EVERY steps and when a session of steps ends.
 */
import { createDecoder } from '../../../src/generate/decoders.js';
import { generate } from '../../../src/generate/generate.js';
import { countParams } from '../../../src/nn/params.js';
import { configureRuntime } from '../../../src/runtime/ort-backend.web.js';
import { errorMessage } from '../../../src/utils/errors.js';
import type { FromWorker, ModelInfo, ToWorker } from '../lib/protocol.js';
import { StepTrainer } from '../lib/step-trainer.js';
import { forgetRun, loadRun, saveRun } from '../lib/store.js';
import { zipModel } from '../lib/zip.js';

const SAVE_EVERY = 25;

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  crossOriginIsolated: boolean;
  location: { href: string };
}
const scope = self as unknown as WorkerScope;
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

let trainer: StepTrainer | undefined;
let stopRequested = false;
let threads = 1;
/** Messages are handled one at a time (a stop request excepted), in order. */
let queue: Promise<void> = Promise.resolve();

function info(t: StepTrainer): ModelInfo {
  return {
    recipe: t.recipeName,
    text: t.text,
    step: t.currentStep,
    parameters: countParams(t.bundle.model.specs),
    vocabSize: t.bundle.tokenizer.vocabSize,
    losses: t.lossHistory,
  };
}

async function save(t: StepTrainer): Promise<void> {
  await saveRun(t.snapshot());
  post({ type: 'saved', step: t.currentStep });
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'init': {
      threads = scope.crossOriginIsolated ? m.threads : 1;
      const runtime = await configureRuntime({ wasmPaths: new URL('../ort/', scope.location.href).href, threads, prefer: m.prefer });
      post({ type: 'ready', runtime, isolated: scope.crossOriginIsolated });
      return;
    }
    case 'restore': {
      const saved = await loadRun();
      if (saved) trainer = await StepTrainer.restore(saved, { threads });
      post({ type: 'model', info: trainer ? info(trainer) : null, resumed: saved !== undefined });
      return;
    }
    case 'train': {
      if (!trainer || trainer.recipeName !== m.recipe || trainer.text !== m.text) {
        await trainer?.release();
        trainer = undefined;
        trainer = await StepTrainer.create(m.recipe, m.text, { threads });
        post({ type: 'model', info: info(trainer), resumed: false });
      }
      stopRequested = false;
      const end = trainer.currentStep + m.steps;
      const keep = m.save ?? true;
      while (trainer.currentStep < end && !stopRequested) {
        post({ type: 'step', result: await trainer.next() });
        if (keep && trainer.currentStep % SAVE_EVERY === 0 && trainer.currentStep < end) await save(trainer);
      }
      if (keep) await save(trainer);
      post({ type: 'trained', info: info(trainer), stopped: stopRequested });
      return;
    }
    case 'generate': {
      if (!trainer) throw new Error('train a model first');
      const decoder = await createDecoder(trainer.bundle, 1);
      try {
        const it = generate({ decoder, tokenizer: trainer.bundle.tokenizer }, m.prompt, { maxNewTokens: m.maxNewTokens, temperature: m.temperature, seed: m.seed });
        for (let r = await it.next(); ; r = await it.next()) {
          if (r.done) {
            post({ type: 'generated', text: r.value.text, tokens: r.value.tokens });
            break;
          }
          post({ type: 'token', text: r.value });
        }
      } finally {
        await decoder.release();
      }
      return;
    }
    case 'download': {
      if (!trainer) throw new Error('train a model first');
      const zip = zipModel(trainer.snapshot().files);
      const bytes = zip.buffer.slice(zip.byteOffset, zip.byteOffset + zip.byteLength) as ArrayBuffer;
      post({ type: 'zip', bytes, name: `inkwell-${trainer.recipeName}-step${trainer.currentStep}.zip` }, [bytes]);
      return;
    }
    case 'forget': {
      await trainer?.release();
      trainer = undefined;
      await forgetRun();
      post({ type: 'model', info: null, resumed: false });
      return;
    }
    case 'stop':
      return;
  }
}

scope.onmessage = (e) => {
  if (e.data.type === 'stop') {
    stopRequested = true;
    return;
  }
  queue = queue.then(() => handle(e.data)).catch((err: unknown) => post({ type: 'error', message: errorMessage(err) }));
};
