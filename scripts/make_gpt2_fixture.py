#!/usr/bin/python3
"""Writes a tiny Hugging Face GPT-2 directory and PyTorch's logits for it (test/models/gpt2-import.test.ts).

Developers run it (the test suite never needs Python or torch):

  /usr/bin/python3 scripts/make_gpt2_fixture.py   # Debian's python3-torch; no transformers

test/fixtures/hf-gpt2/ is laid out exactly as a downloaded GPT-2 checkpoint:
  config.json        GPT2Config fields (n_positions larger than the test uses)
  model.safetensors  HF's tensor names without the `transformer.` prefix (wte.weight,
                     h.0.attn.c_attn.weight, ...), Conv1D weights stored [in, out], the
                     attn.bias causal-mask buffer and the attn.masked_bias scalar of older
                     checkpoints, and lm_head.weight as a copy of the tied wte.weight
  vocab.json, merges.txt  a byte-level BPE: GPT-2's 256 byte symbols, a few merges, <|endoftext|>
test/fixtures/hf-gpt2-expected.json holds a text, its token ids under that BPE, and
the logits of GPT-2's forward pass (written here in plain torch, following HF's
GPT2Model: pre-LayerNorm blocks, gelu_new, causal softmax(qkᵀ/√d)), in float64.
"""
import json, math, pathlib, struct

import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "test" / "fixtures" / "hf-gpt2"
N_POS, N_EMBD, N_LAYER, N_HEAD, EPS = 32, 16, 2, 2, 1e-5
TEXT = "the theme then"


def bytes_to_unicode():
    """GPT-2's reversible byte → printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE = bytes_to_unicode()
MERGES = [("h", "e"), ("Ġ", "t"), ("Ġt", "he"), ("t", "he"), ("Ġthe", "n")]


def build_vocab():
    vocab = {c: i for i, c in enumerate(BYTE[b] for b in range(256))}
    for a, b in MERGES:
        vocab[a + b] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return vocab


def bpe(word):
    """Byte-level BPE of one pre-token: merge the lowest-ranked adjacent pair until none applies."""
    parts = [BYTE[b] for b in word.encode("utf-8")]
    ranks = {m: i for i, m in enumerate(MERGES)}
    while True:
        pairs = [(ranks.get((parts[i], parts[i + 1]), math.inf), i) for i in range(len(parts) - 1)]
        rank, i = min(pairs, default=(math.inf, -1))
        if rank == math.inf:
            return parts
        parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2:]


def encode(text, vocab):
    # GPT-2 pre-tokenizes words with their leading space; this text is lowercase words only.
    words = [w if i == 0 else " " + w for i, w in enumerate(text.split(" "))]
    return [vocab[p] for w in words for p in bpe(w)]


def gelu_new(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(w, ids):
    """HF GPT2LMHeadModel's forward on float64 copies of the weights."""
    T = ids.shape[1]
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (N_EMBD,), w[p + ".weight"], w[p + ".bias"], EPS)
    conv1d = lambda x, p: x @ w[p + ".weight"] + w[p + ".bias"]  # Conv1D: weight [in, out]
    x = w["wte.weight"][ids] + w["wpe.weight"][:T]
    D = N_EMBD // N_HEAD
    for i in range(N_LAYER):
        h = f"h.{i}"
        q, k, v = conv1d(ln(x, f"{h}.ln_1"), f"{h}.attn.c_attn").split(N_EMBD, dim=-1)
        heads = lambda t: t.view(1, T, N_HEAD, D).transpose(1, 2)
        att = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(D)
        att = att.masked_fill(w[f"{h}.attn.bias"][:, :, :T, :T] == 0, float("-inf")).softmax(-1)
        y = (att @ heads(v)).transpose(1, 2).reshape(1, T, N_EMBD)
        x = x + conv1d(y, f"{h}.attn.c_proj")
        x = x + conv1d(gelu_new(conv1d(ln(x, f"{h}.ln_2"), f"{h}.mlp.c_fc")), f"{h}.mlp.c_proj")
    return ln(x, "ln_f") @ w["lm_head.weight"].T


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    vocab = build_vocab()
    V = len(vocab)
    torch.manual_seed(0)
    # Large random weights (not GPT-2's 0.02 init), so a layout mistake shows up in the logits.
    r = lambda *s: torch.randn(*s) * 0.3
    w = {"wte.weight": r(V, N_EMBD), "wpe.weight": r(N_POS, N_EMBD)}
    for i in range(N_LAYER):
        h = f"h.{i}"
        for ln in ("ln_1", "ln_2"):
            w[f"{h}.{ln}.weight"], w[f"{h}.{ln}.bias"] = 1 + r(N_EMBD), r(N_EMBD)
        w[f"{h}.attn.bias"] = torch.tril(torch.ones(N_POS, N_POS)).view(1, 1, N_POS, N_POS)
        w[f"{h}.attn.masked_bias"] = torch.tensor(-1e4)
        for name, nin, nout in (("attn.c_attn", N_EMBD, 3 * N_EMBD), ("attn.c_proj", N_EMBD, N_EMBD), ("mlp.c_fc", N_EMBD, 4 * N_EMBD), ("mlp.c_proj", 4 * N_EMBD, N_EMBD)):
            w[f"{h}.{name}.weight"], w[f"{h}.{name}.bias"] = r(nin, nout), r(nout)
    w["ln_f.weight"], w["ln_f.bias"] = 1 + r(N_EMBD), r(N_EMBD)
    w["lm_head.weight"] = w["wte.weight"].clone()

    OUT.mkdir(parents=True, exist_ok=True)
    write_safetensors(OUT / "model.safetensors", w)
    config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": V, "n_positions": N_POS, "n_ctx": N_POS,
              "n_embd": N_EMBD, "n_layer": N_LAYER, "n_head": N_HEAD, "n_inner": None, "activation_function": "gelu_new",
              "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1, "layer_norm_epsilon": EPS, "initializer_range": 0.02,
              "bos_token_id": V - 1, "eos_token_id": V - 1, "scale_attn_weights": True, "use_cache": True}
    (OUT / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (OUT / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False) + "\n")
    (OUT / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in MERGES))

    ids = encode(TEXT, vocab)
    with torch.no_grad():
        logits = forward({k: v.double() for k, v in w.items()}, torch.tensor([ids]))
    expected = {"text": TEXT, "ids": ids, "logits": {"shape": list(logits.shape), "data": [float(f"{v:.10g}") for v in logits.reshape(-1).tolist()]}}
    (OUT.parent / "hf-gpt2-expected.json").write_text(json.dumps(expected) + "\n")


if __name__ == "__main__":
    main()
