/**
 * Scale-out on PyTorch: a run directory becomes a PyTorch training folder
 * (inkwell's one-file trainer `python/inkwell_torch.py` plus `torch_run.json`,
 * the resolved training config and where the run and its token cache are),
 * launched with torchrun (DDP). The Python trainer reads and writes the run
 * directory in inkwell's own checkpoint format, so a run moves between the two
 * engines at any checkpoint.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { committedPath } from '../io/transaction.js';
import type { TrainConfig } from '../train/trainer.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { makeDirs, writeFileAtomic } from '../utils/fs.js';

export const TORCH_SCRIPT = 'inkwell_torch.py';
export const TORCH_SPEC = 'torch_run.json';

/** The template, shipped in the package beside dist/: <package>/python/inkwell_torch.py. */
const TEMPLATE = fileURLToPath(new URL(`../../../python/${TORCH_SCRIPT}`, import.meta.url));

export interface TorchRunOptions {
  /** Fields that replace the run's training config (e.g. a larger maxSteps to train further). */
  overrides?: Partial<TrainConfig>;
  /** The run's token cache (default: <runDir>/data, where `inkwell train` puts it). */
  dataDir?: string;
  /** 'auto' (default): each rank takes its GPU when PyTorch sees one (NCCL), else the CPU (gloo). */
  device?: 'auto' | 'cpu' | 'cuda';
}

export interface TorchRunFolder {
  dir: string;
  script: string;
  spec: string;
  /** The training config the PyTorch trainer will run. */
  train: TrainConfig;
}

/**
 * Writes the PyTorch training folder for the run in `runDir` into `outDir`:
 * the trainer script and torch_run.json. The run directory must hold a model
 * (config.json, model.safetensors, tokenizer files); with trainer_state.json
 * it is resumed from that checkpoint, without it trained from its weights.
 */
export function writeTorchRun(runDir: string, outDir: string, opts: TorchRunOptions = {}): TorchRunFolder {
  const { files, train } = torchRunFiles(runDir, outDir, opts);
  makeDirs(outDir);
  for (const [name, text] of files) writeFileAtomic(path.join(outDir, name), text);
  return { dir: outDir, script: path.join(outDir, TORCH_SCRIPT), spec: path.join(outDir, TORCH_SPEC), train };
}

/** The folder's files (name → text) for a folder that will stand at `outDir`: `inkwell export --format torch-run` writes them all at once. */
export function torchRunFiles(runDir: string, outDir: string, opts: TorchRunOptions = {}): { files: Map<string, string>; train: TrainConfig } {
  // Only read here (a trainer may be committing): the PyTorch trainer recovers an interrupted commit itself when it starts.
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
    if (!fs.existsSync(committedPath(runDir, f))) throw new InkwellError(`${runDir} is not an inkwell run directory (missing ${f})`);
  }
  checkTorchTrainable(readJson(committedPath(runDir, 'config.json')), path.join(runDir, 'config.json'));
  const dataDir = opts.dataDir ?? path.join(runDir, 'data');
  if (!fs.existsSync(path.join(dataDir, 'meta.json'))) throw new InkwellError(`no token cache in ${dataDir} (missing meta.json)`, 'pass the run\'s token cache directory');
  const train = { ...savedTrainConfig(runDir), ...opts.overrides } as TrainConfig;
  // Paths relative to the folder, so the run directory (with the folder inside it) can move to a cluster's storage as a whole.
  const rel = (p: string) => path.relative(path.resolve(outDir), path.resolve(p)) || '.';
  const spec = { version: 1, run_dir: rel(runDir), data_dir: rel(dataDir), device: opts.device ?? 'auto', train };
  const files = new Map([
    [TORCH_SCRIPT, fs.readFileSync(TEMPLATE, 'utf8')],
    [TORCH_SPEC, JSON.stringify(spec, null, 2) + '\n'],
  ]);
  return { files, train };
}

/**
 * The run's training config: its checkpoint's (what `inkwell train --resume`
 * continues) or, before the first checkpoint, run.json's.
 */
function savedTrainConfig(runDir: string): TrainConfig {
  const stateFile = committedPath(runDir, 'trainer_state.json');
  if (fs.existsSync(stateFile)) {
    const s = readJson(stateFile) as { version?: unknown; config?: TrainConfig };
    if (s.version !== 1 || !s.config || typeof s.config !== 'object') throw new InkwellError(`${stateFile} is not an inkwell trainer state`);
    return s.config;
  }
  const specFile = path.join(runDir, 'run.json');
  if (!fs.existsSync(specFile)) throw new InkwellError(`${runDir} has neither trainer_state.json nor run.json to take the training config from`);
  const spec = readJson(specFile) as { train?: TrainConfig };
  if (!spec.train || typeof spec.train !== 'object') throw new InkwellError(`${specFile} has no 'train' section`);
  return spec.train;
}

/** What the PyTorch trainer cannot train, refused here with the reason (the one place that looks at the kind of model). */
function checkTorchTrainable(config: unknown, source: string): void {
  const c = config as Record<string, unknown>;
  if (c.inkwell_lora !== undefined) throw new InkwellError(`${source}: a LoRA run cannot move to the torch engine`, 'merge the adapter or train it with the inkwell engine');
  if (!['gpt2', 'lstm', 'gru'].includes(String(c.model_type))) throw new InkwellError(`${source}: model_type '${String(c.model_type)}' has no PyTorch trainer (gpt2, lstm, gru)`);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InkwellError(`cannot read ${file}: ${errorMessage(err)}`);
  }
}

let found: string | undefined;

/**
 * A Python that can `import torch`: $INKWELL_PYTHON when set (and then only
 * it), else the first of python3, /usr/bin/python3, python that can.
 */
export function findTorchPython(): string {
  const env = process.env.INKWELL_PYTHON;
  if (env) {
    if (!canImportTorch(env)) throw new InkwellError(`INKWELL_PYTHON=${env} cannot import torch`, 'install PyTorch for it (pip install torch) or point INKWELL_PYTHON at a Python that has it');
    return env;
  }
  found ??= ['python3', '/usr/bin/python3', 'python'].find(canImportTorch);
  if (!found) throw new InkwellError('no Python with PyTorch found (tried python3, /usr/bin/python3, python)', 'install it (Debian: apt-get install python3-torch; elsewhere: pip install torch) or set INKWELL_PYTHON');
  return found;
}

function canImportTorch(python: string): boolean {
  return spawnSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore', timeout: 60_000 }).status === 0;
}

/** torchrun's topology flags, passed through as given (see `python -m torch.distributed.run --help`). */
export interface LaunchOptions {
  /** Processes on this machine (one per GPU; on CPU, gloo). Default 1. */
  nprocPerNode?: number;
  /** Machines: N or MIN:MAX (elastic). Default 1. */
  nnodes?: string;
  nodeRank?: number;
  /** Elastic rendezvous (c10d): host:port of the store, and a job id all nodes share. */
  rdzvEndpoint?: string;
  rdzvId?: string;
  rdzvBackend?: string;
  /** Static rendezvous: the rank-0 machine's address and a free port on it. */
  masterAddr?: string;
  masterPort?: number;
  python?: string;
  env?: NodeJS.ProcessEnv;
  /** 'inherit' (default) shows the trainer's output; 'pipe' collects it into the result. */
  stdio?: 'inherit' | 'pipe';
}

/**
 * Python's arguments for `opts`: one process on one machine runs the trainer
 * directly; more go through torchrun, --standalone (a free local port) on a
 * single machine unless a rendezvous is given.
 */
export function torchrunArgs(folder: Pick<TorchRunFolder, 'script' | 'spec'>, o: LaunchOptions = {}): string[] {
  const rendezvous = o.rdzvEndpoint !== undefined || o.masterAddr !== undefined || o.masterPort !== undefined;
  if ((o.nprocPerNode ?? 1) === 1 && (o.nnodes ?? '1') === '1' && !rendezvous) return [folder.script, 'train', folder.spec];
  // The script's `launch` is torchrun (python -m torch.distributed.run) with a fix for torch < 2 on Python ≥ 3.11.
  const args = [folder.script, 'launch', `--nproc_per_node=${o.nprocPerNode ?? 1}`, `--nnodes=${o.nnodes ?? '1'}`];
  if (!rendezvous && (o.nnodes ?? '1') === '1') args.push('--standalone');
  if (o.nodeRank !== undefined) args.push(`--node_rank=${o.nodeRank}`);
  if (o.rdzvEndpoint !== undefined) args.push(`--rdzv_backend=${o.rdzvBackend ?? 'c10d'}`, `--rdzv_endpoint=${o.rdzvEndpoint}`);
  if (o.rdzvId !== undefined) args.push(`--rdzv_id=${o.rdzvId}`);
  if (o.masterAddr !== undefined) args.push(`--master_addr=${o.masterAddr}`);
  if (o.masterPort !== undefined) args.push(`--master_port=${o.masterPort}`);
  return [...args, folder.script, 'train', folder.spec];
}

/** The shell command that trains the folder with a stock `torchrun` (e.g. on each machine of a cluster). */
export function torchrunCommand(folder: Pick<TorchRunFolder, 'script' | 'spec'>, o: LaunchOptions = {}): string {
  const args = torchrunArgs(folder, { ...o, nprocPerNode: o.nprocPerNode ?? 1 });
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  // torchrunArgs starts with the script's own `launch`; a cluster's torchrun takes its place.
  const rest = args[1] === 'launch' ? args.slice(2) : ['--nproc_per_node=1', '--standalone', ...args];
  return ['torchrun', ...rest].map(quote).join(' ');
}

/** Runs the folder's trainer under torchrun and waits for it; a failure is an InkwellError carrying the trainer's last words. */
export function launchTorchRun(folder: Pick<TorchRunFolder, 'script' | 'spec'>, o: LaunchOptions = {}): Promise<{ output: string }> {
  const python = o.python ?? findTorchPython();
  const stdio = o.stdio ?? 'inherit';
  return new Promise((resolve, reject) => {
    const child = spawn(python, torchrunArgs(folder, o), { stdio: stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : 'inherit', env: o.env ?? process.env });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => reject(new InkwellError(`cannot start ${python}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) return resolve({ output });
      // The trainer's own `error: …` line, else (collected output only) the last exception Python printed.
      const lines = output.split('\n');
      const said = lines.filter((l) => l.startsWith('error:')).at(-1)?.slice(7) ?? lines.filter((l) => /^\w+(Error|Exception)\b/.test(l)).at(-1);
      reject(new InkwellError(`the PyTorch trainer failed (exit code ${code})${said ? `: ${said}` : ''}`, stdio === 'pipe' ? output.slice(-2000) : undefined));
    });
  });
}

/** Writes the PyTorch folder for `runDir` (default <runDir>/torch) and trains it there under torchrun. */
export async function trainOnTorch(runDir: string, o: TorchRunOptions & { torchDir?: string; launch?: LaunchOptions } = {}): Promise<TorchRunFolder> {
  const folder = writeTorchRun(runDir, o.torchDir ?? path.join(runDir, 'torch'), o);
  await launchTorchRun(folder, o.launch);
  return folder;
}
