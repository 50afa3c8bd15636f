/**
 * `--format gguf`: a GPT as llama.cpp's `gpt2` architecture (what node-llama-cpp,
 * Ollama and LM Studio run), with its byte-level BPE as `tokenizer.ggml.*`.
 *
 * Tensor names are llama.cpp's (token_embd, position_embd, blk.N.attn_qkv …).
 * llama.cpp multiplies by [out, in] row-major weights (ne = [in, out]), while
 * GPT-2's Conv1D stores [in, out]: every linear weight is transposed here.
 * Embeddings are [rows, C] in both, so they keep their bytes. The LM head stays
 * tied: with no `output.weight`, llama.cpp reuses token_embd.
 */
import type { ModelBundle } from '../io/model-dir.js';
import type { Gpt } from '../models/gpt.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { InkwellError } from '../utils/errors.js';
import { encodeF16, encodeGguf, encodeQ8_0, GgmlType, GgufType, GGUF_ALIGNMENT, type GgmlTypeId, type GgufTensor, type GgufValue } from './gguf-format.js';
import { plainGpt } from '../models/registry.js';
import type { ExportFiles } from './out-dir.js';

export const GGUF_DTYPES = ['f32', 'f16', 'q8_0'] as const;
export type GgufDtype = (typeof GGUF_DTYPES)[number];

/** llama.cpp's general.file_type (LLAMA_FTYPE_*) of each choice. */
const FILE_TYPE: Readonly<Record<GgufDtype, number>> = { f32: 0, f16: 1, q8_0: 7 };

/** llama.cpp token types. */
const TOKEN_NORMAL = 1;
const TOKEN_CONTROL = 3;
const TOKEN_UNUSED = 5;

export const ggufFileName = (dtype: GgufDtype) => `model-${dtype}.gguf`;

export function ggufFiles(bundle: ModelBundle, dtypes: readonly GgufDtype[], name: string): ExportFiles {
  const gpt = plainGpt(bundle.model, 'gguf');
  const vocab = ggufVocab(bundle.tokenizer, gpt.vocabSize);
  return new Map(dtypes.map((d) => [ggufFileName(d), encodeGguf(metadata(gpt, vocab, d, name), tensors(gpt, bundle.weights, d))]));
}

interface GgufVocab {
  tokens: string[];
  types: number[];
  merges: string[];
  special: Tokenizer['special'];
}

/** GGUF's `gpt2` tokenizer is GPT-2's byte-level BPE; other tokenizers have no GGUF form llama.cpp would read back the same. */
function ggufVocab(tok: Tokenizer, vocabSize: number): GgufVocab {
  const json = tok.toJSON();
  const pre = json.pre_tokenizer as { type?: string; add_prefix_space?: boolean } | null;
  if (tok.kind !== 'bpe' || json.model.type !== 'BPE' || pre?.type !== 'ByteLevel') {
    throw new InkwellError(`--format gguf needs a byte-level BPE tokenizer (GPT-2 style); this model's is '${tok.kind}'`, 'GGUF has no form llama.cpp reads for char or word-level vocabularies: train with --tokenizer bpe, or export with --format onnx or transformers.js');
  }
  if (pre.add_prefix_space) throw new InkwellError('--format gguf: the tokenizer adds a prefix space, which llama.cpp\'s gpt2 tokenizer does not do');
  const tokens: string[] = [];
  const types: number[] = [];
  for (let id = 0; id < vocabSize; id++) {
    const t = tok.idToToken(id);
    // Ids the model has but the tokenizer never produces still need a (unique) name.
    tokens.push(t ?? `[UNUSED_${id}]`);
    types.push(t === undefined ? TOKEN_UNUSED : tok.specialTokens.has(t) ? TOKEN_CONTROL : TOKEN_NORMAL);
  }
  const merges = (json.model['merges'] as Array<string | [string, string]>).map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
  return { tokens, types, merges, special: tok.special };
}

function metadata(gpt: Gpt, vocab: GgufVocab, dtype: GgufDtype, name: string): Map<string, GgufValue> {
  const c = gpt.config;
  const u32 = (value: number): GgufValue => ({ type: GgufType.UINT32, value });
  const str = (value: string): GgufValue => ({ type: GgufType.STRING, value });
  const m = new Map<string, GgufValue>([
    ['general.architecture', str('gpt2')],
    ['general.name', str(name)],
    ['general.file_type', u32(FILE_TYPE[dtype])],
    ['general.quantization_version', u32(2)],
    ['general.alignment', u32(GGUF_ALIGNMENT)],
    ['gpt2.context_length', u32(c.nPositions)],
    ['gpt2.embedding_length', u32(c.nEmbd)],
    ['gpt2.feed_forward_length', u32(4 * c.nEmbd)],
    ['gpt2.block_count', u32(c.nLayer)],
    ['gpt2.attention.head_count', u32(c.nHead)],
    ['gpt2.attention.layer_norm_epsilon', { type: GgufType.FLOAT32, value: c.layerNormEps }],
    ['tokenizer.ggml.model', str('gpt2')],
    ['tokenizer.ggml.pre', str('gpt-2')],
    ['tokenizer.ggml.tokens', { type: GgufType.ARRAY, itemType: GgufType.STRING, values: vocab.tokens }],
    ['tokenizer.ggml.token_type', { type: GgufType.ARRAY, itemType: GgufType.INT32, values: vocab.types }],
    ['tokenizer.ggml.merges', { type: GgufType.ARRAY, itemType: GgufType.STRING, values: vocab.merges }],
    // inkwell never prepends bos to a prompt; llama.cpp must not either, or ids differ.
    ['tokenizer.ggml.add_bos_token', { type: GgufType.BOOL, value: false }],
  ]);
  const s = vocab.special;
  if (s.bos !== undefined) m.set('tokenizer.ggml.bos_token_id', u32(s.bos));
  if (s.eos !== undefined) m.set('tokenizer.ggml.eos_token_id', u32(s.eos));
  if (s.pad !== undefined) m.set('tokenizer.ggml.padding_token_id', u32(s.pad));
  if (s.unk !== undefined) m.set('tokenizer.ggml.unknown_token_id', u32(s.unk));
  return m;
}

function tensors(gpt: Gpt, weights: ReadonlyMap<string, Float32Array>, dtype: GgufDtype): GgufTensor[] {
  const c = gpt.config;
  const out: GgufTensor[] = [];
  const get = (n: string) => weights.get(n)!;
  // llama.cpp's gpt2 requires every bias; a bias-free inkwell GPT exports zeros, which compute the same.
  const biasOr0 = (n: string, size: number) => weights.get(n) ?? new Float32Array(size);
  const vector = (name: string, data: Float32Array) => out.push({ name, ne: [data.length], type: GgmlType.F32, data: bytes(data) });
  /** A row-major [rows, cols] matrix → ne [cols, rows]. */
  const matrix = (name: string, data: Float32Array, rows: number, cols: number) => {
    const type = matrixType(dtype, cols);
    out.push({ name, ne: [cols, rows], type, data: type === GgmlType.Q8_0 ? encodeQ8_0(data) : type === GgmlType.F16 ? encodeF16(data) : bytes(data) });
  };
  const C = c.nEmbd;
  matrix('token_embd.weight', get('transformer.wte.weight'), c.vocabSize, C);
  matrix('position_embd.weight', get('transformer.wpe.weight'), c.nPositions, C);
  const norm = (ours: string, theirs: string) => {
    vector(`${theirs}.weight`, get(`${ours}.weight`));
    vector(`${theirs}.bias`, biasOr0(`${ours}.bias`, C));
  };
  const linear = (ours: string, theirs: string, nIn: number, nOut: number) => {
    matrix(`${theirs}.weight`, transpose(get(`${ours}.weight`), nIn, nOut), nOut, nIn);
    vector(`${theirs}.bias`, biasOr0(`${ours}.bias`, nOut));
  };
  for (let i = 0; i < c.nLayer; i++) {
    const [h, b] = [`transformer.h.${i}`, `blk.${i}`];
    norm(`${h}.ln_1`, `${b}.attn_norm`);
    linear(`${h}.attn.c_attn`, `${b}.attn_qkv`, C, 3 * C);
    linear(`${h}.attn.c_proj`, `${b}.attn_output`, C, C);
    norm(`${h}.ln_2`, `${b}.ffn_norm`);
    linear(`${h}.mlp.c_fc`, `${b}.ffn_up`, C, 4 * C);
    linear(`${h}.mlp.c_proj`, `${b}.ffn_down`, 4 * C, C);
  }
  norm('transformer.ln_f', 'output_norm');
  return out;
}

/** Q8_0 works on whole blocks of 32 along a row; a row that is not becomes f16, as llama.cpp's own quantizer falls back. */
function matrixType(dtype: GgufDtype, cols: number): GgmlTypeId {
  if (dtype === 'f32') return GgmlType.F32;
  if (dtype === 'q8_0' && cols % 32 === 0) return GgmlType.Q8_0;
  return GgmlType.F16;
}

/** [rows, cols] row-major → [cols, rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = a[r * cols + k]!;
  return out;
}

const bytes = (a: Float32Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
