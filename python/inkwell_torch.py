#!/usr/bin/env python3
"""inkwell's PyTorch trainer: continues an inkwell run on torchrun (DDP) and
writes checkpoints inkwell resumes.

inkwell ships this file as a template (`inkwell train --engine torch` copies it
into a run folder beside `torch_run.json` and launches it). It needs only
PyTorch and NumPy (Debian: `apt-get install python3-torch`; elsewhere
`pip install torch`).

  python -m torch.distributed.run --nproc_per_node 2 inkwell_torch.py train torch_run.json
  python inkwell_torch.py launch --nproc_per_node 2 inkwell_torch.py train torch_run.json   (the same)
  python inkwell_torch.py train torch_run.json            (one process)
  python inkwell_torch.py generate --model RUN_DIR --ids 5,7,9 --max-new-tokens 20
  python inkwell_torch.py batches torch_run.json --count 3

It computes what inkwell's own trainer computes, step for step:
- the same models under the same tensor names: GPT-2 (Hugging Face names,
  Conv1D weights stored [in, out], gelu_new, lm_head tied to wte) and LSTM/GRU
  (PyTorch's nn.LSTM/nn.GRU names and gate orders, a Linear head);
- the same batches: inkwell's RNG (xoshiro128** seeded through splitmix32) and
  WindowBatcher are ported below, so the global batch for a seed and step is
  the one inkwell draws; each DDP rank reads its share of its rows;
- the same optimizer arithmetic as inkwell's optimizers.ts (AdamW's decoupled
  decay on matrices only), warmup + cosine schedule, global-norm clipping,
  gradient accumulation, evaluation on fixed batches, the best model in best/;
- the same files: model.safetensors, optimizer.safetensors (`<param>.exp_avg`,
  `carry.state.h` …), trainer_state.json and metrics.jsonl, committed with
  inkwell's marker-and-rename transaction (src/io/transaction.ts).
Dropout masks come from torch's generator, not inkwell's, so runs with
dropout > 0 agree in distribution, not bit for bit. Drawing an epoch's window
order is plain Python (inkwell's generator, number by number): about 6 s per
million windows on a 2026 CPU core, once per epoch.
"""
import argparse
import contextlib
import hashlib
import json
import math
import os
import re
import secrets
import struct
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------- inkwell's RNG (src/utils/rng.ts)

M32 = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & M32


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


def _splitmix32(x):
    z = x & M32
    z = _imul(z ^ (z >> 16), 0x85EBCA6B)
    z = _imul(z ^ (z >> 13), 0xC2B2AE35)
    return (z ^ (z >> 16)) & M32


def _hash_string(s):
    """FNV-1a over UTF-16 code units, as JavaScript strings hold them."""
    h = 0x811C9DC5
    units = s.encode("utf-16-le")
    for i in range(0, len(units), 2):
        h = _imul(h ^ (units[i] | (units[i + 1] << 8)), 0x01000193)
    return h


class Rng:
    """xoshiro128**, bit for bit the generator inkwell seeds its data order with."""

    def __init__(self, seed=0):
        x = _hash_string(seed) if isinstance(seed, str) else int(seed) & M32
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & M32
            s.append(_splitmix32(x))
        if not any(s):
            s[0] = 1
        self.s = s

    def next_uint32(self):
        s0, s1, s2, s3 = self.s
        result = _imul(_rotl(_imul(s1, 5), 7), 9)
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        self.s = [s0, s1, s2, _rotl(s3, 11)]
        return result

    def int(self, n):
        """Uniform in [0, n) by rejection, as Rng.int."""
        limit = 4294967296 - (4294967296 % n)
        x = self.next_uint32()
        while x >= limit:
            x = self.next_uint32()
        return x % n

    def shuffle(self, a):
        """Fisher–Yates in place, drawing j for i = len-1 … 1 as Rng.shuffle."""
        for i in range(len(a) - 1, 0, -1):
            j = self.int(i + 1)
            a[i], a[j] = a[j], a[i]
        return a

    def get_state(self):
        return list(self.s)


# ---------------------------------------------------------------- inkwell's batches (src/data/batches.ts)


class WindowBatcher:
    """Window starts of each batch: 'random' (seeded phase and order per epoch) or 'sequential' lanes."""

    def __init__(self, n_tokens, batch_size, context, mode, seed):
        self.n, self.b, self.c, self.mode, self.seed = n_tokens, batch_size, context, mode, seed
        self.epoch, self.step, self.order, self.phase = 0, 0, None, 0
        if mode not in ("random", "sequential"):
            raise SystemExit(f"error: sampling must be 'random' or 'sequential', got {mode!r}")
        if self.batches_per_epoch() < 1:
            raise SystemExit(f"error: {n_tokens} tokens are too few for one batch of {batch_size} x {context + 1}")

    def batches_per_epoch(self):
        if self.mode == "sequential":
            return (self.n // self.b - 1) // self.c
        return ((self.n - self.c) // self.c) // self.b

    def _start_random_epoch(self):
        rng = Rng(f"{_js_number(self.seed)}:{self.epoch}")
        self.phase = rng.int(self.c)
        self.order = rng.shuffle(list(range((self.n - self.phase - 1) // self.c)))

    def _epoch_length(self):
        return len(self.order) // self.b if self.mode == "random" else self.batches_per_epoch()

    def next(self):
        """(starts of the batch's rows, whether it opens an epoch), advancing one batch."""
        if self.mode == "random" and self.order is None:
            self._start_random_epoch()
        if self.mode == "sequential":
            lane = self.n // self.b
            starts = [row * lane + self.step * self.c for row in range(self.b)]
        else:
            at = self.step * self.b
            starts = [self.phase + self.order[at + row] * self.c for row in range(self.b)]
        new_epoch = self.step == 0
        self.step += 1
        if self.step >= self._epoch_length():
            self.epoch, self.step, self.order = self.epoch + 1, 0, None
        return starts, new_epoch

    def state(self):
        return {"mode": self.mode, "seed": self.seed, "epoch": self.epoch, "step": self.step}

    def restore(self, s):
        if s["mode"] != self.mode or s["seed"] != self.seed:
            raise SystemExit(f"error: data state is for mode {s['mode']} seed {s['seed']}, but this run uses mode {self.mode} seed {self.seed}")
        self.epoch, self.step, self.order = s["epoch"], s["step"], None
        if self.mode == "random":
            self._start_random_epoch()
        if self.step >= self._epoch_length():
            raise SystemExit(f"error: data state step {s['step']} is past the end of epoch {s['epoch']}")


def _js_number(v):
    """A number as JavaScript's template strings print it (1337, not 1337.0)."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def open_token_cache(data_dir, split):
    """A split of inkwell's token cache (meta.json + flat little-endian .bin), memory-mapped."""
    meta_path = os.path.join(data_dir, "meta.json")
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: cannot read the token cache {meta_path}: {e}")
    if meta.get("version") != 1 or meta.get("dtype") not in ("uint16", "uint32"):
        raise SystemExit(f"error: {meta_path} is not an inkwell token cache sidecar")
    info = meta["splits"][split]
    path = os.path.join(data_dir, info["file"])
    dtype = np.dtype("<u2" if meta["dtype"] == "uint16" else "<u4")
    size = os.path.getsize(path) if os.path.exists(path) else -1
    if size != info["tokens"] * dtype.itemsize:
        raise SystemExit(f"error: token file {path} has {size} bytes, expected {info['tokens'] * dtype.itemsize}")
    if info["tokens"] == 0:
        return None
    return np.memmap(path, dtype=dtype, mode="r")


def read_rows(tokens, starts, context):
    """[rows, context + 1] int64 windows."""
    return torch.from_numpy(np.stack([np.asarray(tokens[s : s + context + 1], dtype=np.int64) for s in starts]))


# ---------------------------------------------------------------- files: safetensors and inkwell's transaction


def read_safetensors(path):
    """(name → float32 tensor, metadata); inkwell writes F32 only."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise SystemExit(f"error: cannot read {path}: {e.strerror}")
    if len(raw) < 8:
        raise SystemExit(f"error: {path} is not a valid safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise SystemExit(f"error: {path} is not a valid safetensors file: header length {n} exceeds the file")
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {}) or {}
    data = memoryview(raw)[8 + n :]
    out = {}
    for name, e in header.items():
        if e["dtype"] != "F32":
            raise SystemExit(f"error: {path}: '{name}' is {e['dtype']}; the PyTorch trainer reads F32")
        begin, end = e["data_offsets"]
        count = math.prod(e["shape"])
        if end > len(data) or end - begin != 4 * count:
            raise SystemExit(f"error: {path}: '{name}' does not fit the file")
        out[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(e["shape"]) if count else torch.zeros(e["shape"])
    return out, meta


def encode_safetensors(tensors, metadata):
    """Bytes of a safetensors file: names sorted, header padded to 8 bytes, float32 little-endian."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu", torch.float32).contiguous()
        b = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def _write_atomic(path, data):
    """Temp file in the same directory, fsync, rename: readers see the old file or the new one."""
    d = os.path.dirname(path) or "."
    tmp = os.path.join(d, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def recover(d):
    """inkwell's recover(): finish a commit whose marker exists, drop pending files of one that never got it."""
    if not os.path.isdir(d):
        return
    marker = os.path.join(d, ".commit")
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as f:
            names = json.load(f)
        for name in names:
            pending = os.path.join(d, f".{name}.pending")
            if os.path.exists(pending):
                os.replace(pending, os.path.join(d, name))
        os.remove(marker)
    for f in os.listdir(d):
        if f.startswith(".") and f.endswith(".pending"):
            os.remove(os.path.join(d, f))


def write_files_atomically(d, files):
    """All of `files` (name → bytes) or none: pending files, then the .commit marker (the commit point), then renames.

    manifest.json (each file's size and sha256, as src/io/transaction.ts writes it) joins the commit, so inkwell verifies the set."""
    os.makedirs(d, exist_ok=True)
    recover(d)
    entries = {}
    try:
        with open(os.path.join(d, "manifest.json"), encoding="utf-8") as f:
            old = json.load(f).get("files", {})
        entries = {k: v for k, v in old.items() if k not in files and os.path.exists(os.path.join(d, k))}
    except (OSError, ValueError, AttributeError):
        pass
    for name, data in files.items():
        entries[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    files = {**files, "manifest.json": (json.dumps({"version": 1, "files": entries}, indent=2) + "\n").encode()}
    for name, data in files.items():
        _write_atomic(os.path.join(d, f".{name}.pending"), data)
    _write_atomic(os.path.join(d, ".commit"), (json.dumps(list(files), indent=2) + "\n").encode())
    recover(d)


# ---------------------------------------------------------------- models (the same names and arithmetic as src/models/)


class Conv1D(nn.Module):
    """GPT-2's linear layer: weight stored [in, out], y = x·W + b."""

    def __init__(self, n_in, n_out, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out)) if bias else None

    def forward(self, x):
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y


class LayerNorm(nn.Module):
    """LayerNorm whose bias is optional (inkwell_bias: false), as inkwell's GPT allows."""

    def __init__(self, n, bias, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = Conv1D(c["n_embd"], 3 * c["n_embd"], c["bias"])
        self.c_proj = Conv1D(c["n_embd"], c["n_embd"], c["bias"])
        self.heads, self.p = c["n_head"], c["dropout"]

    def forward(self, x, causal):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        att = (q @ k.transpose(-2, -1)) * (1 / math.sqrt(C // self.heads))
        att = att.masked_fill(~causal, -1e9)  # inkwell masks with -1e9, not -inf
        y = F.dropout(F.softmax(att, dim=-1), self.p, self.training) @ v
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = Conv1D(c["n_embd"], 4 * c["n_embd"], c["bias"])
        self.c_proj = Conv1D(4 * c["n_embd"], c["n_embd"], c["bias"])

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))  # gelu_new


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c["n_embd"], c["bias"], c["eps"])
        self.attn = Attention(c)
        self.ln_2 = LayerNorm(c["n_embd"], c["bias"], c["eps"])
        self.mlp = Mlp(c)
        self.p = c["dropout"]

    def forward(self, x, causal):
        x = x + F.dropout(self.attn(self.ln_1(x), causal), self.p, self.training)
        return x + F.dropout(self.mlp(self.ln_2(x)), self.p, self.training)


class Gpt(nn.Module):
    """GPT-2 (pre-LayerNorm blocks, learned positions, tied lm_head); forward → (logits, no state)."""

    def __init__(self, c):
        super().__init__()
        self.c, self.context = c, c["n_positions"]
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.transformer.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        self.transformer.h = nn.ModuleList(Block(c) for _ in range(c["n_layer"]))
        self.transformer.ln_f = LayerNorm(c["n_embd"], c["bias"], c["eps"])

    def forward(self, ids, state=None):
        t = self.transformer
        T = ids.shape[1]
        if T > self.c["n_positions"]:
            raise SystemExit(f"error: sequence length {T} exceeds the model's context of {self.c['n_positions']}")
        x = F.dropout(t.wte(ids) + t.wpe.weight[:T], self.c["dropout"], self.training)
        # Made here, not kept as a buffer: DDP broadcasts buffers, and gloo cannot send bool tensors.
        causal = torch.ones(T, T, dtype=torch.bool, device=ids.device).tril()
        for block in t.h:
            x = block(x, causal)
        return t.ln_f(x) @ t.wte.weight.t(), None


class TiedHead(nn.Module):
    """head.bias alone: head.weight is the embedding matrix."""

    def __init__(self, n):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(n))


class RnnLm(nn.Module):
    """Embedding → nn.LSTM/nn.GRU (batch_first; dropout between layers) → Linear head; state (h[, c]) is [L, B, H]."""

    def __init__(self, c):
        super().__init__()
        self.c, self.context = c, None
        self.embedding = nn.Embedding(c["vocab_size"], c["embedding_dim"])
        cell = nn.LSTM if c["cell"] == "lstm" else nn.GRU
        self.rnn = cell(c["embedding_dim"], c["hidden_size"], c["num_layers"], batch_first=True, dropout=c["dropout"] if c["num_layers"] > 1 else 0.0)
        self.head = TiedHead(c["vocab_size"]) if c["tie"] else nn.Linear(c["hidden_size"], c["vocab_size"])

    def state_names(self):
        return ["state.h", "state.c"] if self.c["cell"] == "lstm" else ["state.h"]

    def forward(self, ids, state):
        """state: tensors by inkwell's names ('state.h', 'state.c'), or None for zeros."""
        names = self.state_names()
        if state is None:
            h0 = None
        elif self.c["cell"] == "lstm":
            h0 = (state["state.h"], state["state.c"])
        else:
            h0 = state["state.h"]
        y, hn = self.rnn(self.embedding(ids), h0)
        w = self.embedding.weight if self.c["tie"] else self.head.weight
        out = hn if isinstance(hn, tuple) else (hn,)
        return y @ w.t() + self.head.bias, dict(zip(names, out))


def build_model(config_path):
    """config.json → model. The one place that branches on the kind of model."""
    try:
        with open(config_path, encoding="utf-8") as f:
            j = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: cannot read {config_path}: {e}")
    if "inkwell_lora" in j:
        raise SystemExit(f"error: {config_path} is a LoRA run; the PyTorch trainer trains full models (merge the adapter first)")
    kind = j.get("model_type")
    if kind == "gpt2":
        if j.get("activation_function", "gelu_new") != "gelu_new":
            raise SystemExit(f"error: {config_path}: activation_function must be gelu_new")
        return Gpt({
            "vocab_size": j["vocab_size"], "n_positions": j["n_positions"], "n_embd": j["n_embd"], "n_layer": j["n_layer"],
            "n_head": j["n_head"], "bias": bool(j.get("inkwell_bias", True)), "dropout": float(j.get("resid_pdrop", 0)),
            "eps": float(j.get("layer_norm_epsilon", 1e-5)),
        })
    if kind in ("lstm", "gru"):
        return RnnLm({
            "cell": kind, "vocab_size": j["vocab_size"], "embedding_dim": j["embedding_dim"], "hidden_size": j["hidden_size"],
            "num_layers": j["num_layers"], "dropout": float(j.get("dropout", 0)), "tie": bool(j.get("tie_word_embeddings", False)),
        })
    raise SystemExit(f"error: {config_path}: model_type {kind!r} is not supported (gpt2, lstm, gru)")


def load_weights(model, path):
    tensors, meta = read_safetensors(path)
    own = dict(model.named_parameters())
    missing, extra = sorted(set(own) - set(tensors)), sorted(set(tensors) - set(own))
    if missing or extra:
        raise SystemExit(f"error: {path}: missing tensors {missing}, unexpected {extra} (does config.json match the weights?)")
    with torch.no_grad():
        for name, p in own.items():
            if tensors[name].numel() != p.numel():
                raise SystemExit(f"error: {path}: tensor '{name}' has {tensors[name].numel()} values, expected shape {list(p.shape)}")
            p.copy_(tensors[name].reshape(p.shape))
    return meta


# ---------------------------------------------------------------- optimizer, schedule, clipping (src/train/)


class Optimizer:
    """inkwell's optimizers (torch.optim semantics) over named parameters; slots are saved as `<param>.<slot>`."""

    SLOTS = {"adamw": ("exp_avg", "exp_avg_sq"), "adam": ("exp_avg", "exp_avg_sq"), "sgd": ("momentum_buffer",), "rmsprop": ("square_avg",)}

    def __init__(self, cfg, params, decay, lr_scale):
        self.name = cfg["name"]
        if self.name not in self.SLOTS:
            raise SystemExit(f"error: unknown optimizer '{self.name}' (choose one of: {', '.join(self.SLOTS)})")
        self.b1, self.b2 = cfg.get("betas", [0.9, 0.999])
        self.eps = cfg.get("eps", 1e-8)
        self.wd = cfg.get("weightDecay", 0)
        self.momentum = cfg.get("momentum", 0)
        self.alpha = cfg.get("alpha", 0.99)
        self.params, self.decay, self.lr_scale = params, decay, lr_scale
        self.slots = {}
        self.steps = 0

    def _slot(self, name, s, like):
        key = f"{name}.{s}"
        if key not in self.slots:
            self.slots[key] = torch.zeros_like(like)
        return self.slots[key]

    @torch.no_grad()
    def step(self, base_lr):
        self.steps += 1
        t = self.steps
        for name, p in self.params.items():
            w, g = p.data, p.grad
            lr = base_lr * self.lr_scale.get(name, 1)
            if self.name in ("adamw", "adam"):
                m, v = self._slot(name, "exp_avg", w), self._slot(name, "exp_avg_sq", w)
                if self.name == "adam" and self.wd:
                    g = g + self.wd * w  # Adam: L2 in the gradient
                m.mul_(self.b1).add_(g, alpha=1 - self.b1)
                v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
                if self.name == "adamw" and self.decay[name]:
                    w.mul_(1 - lr * self.wd)  # decoupled decay, matrices and embeddings only
                denom = v.sqrt().div_(math.sqrt(1 - self.b2**t)).add_(self.eps)
                w.addcdiv_(m, denom, value=-lr / (1 - self.b1**t))
            elif self.name == "sgd":
                g = g + self.wd * w if self.wd else g
                if self.momentum:
                    buf = self._slot(name, "momentum_buffer", w)
                    if t == 1:
                        buf.copy_(g)
                    else:
                        buf.mul_(self.momentum).add_(g)
                    g = buf
                w.add_(g, alpha=-lr)
            else:
                g = g + self.wd * w if self.wd else g
                sq = self._slot(name, "square_avg", w)
                sq.mul_(self.alpha).addcmul_(g, g, value=1 - self.alpha)
                w.addcdiv_(g, sq.sqrt().add_(self.eps), value=-lr)

    def state(self):
        """Slots flattened, as inkwell stores them."""
        return {k: v.reshape(-1) for k, v in self.slots.items()}

    def load_state(self, tensors, steps, source):
        allowed = self.SLOTS[self.name]
        self.slots = {}
        for key, v in tensors.items():
            name, _, s = key.rpartition(".")
            if name not in self.params or s not in allowed:
                raise SystemExit(f"error: {source}: unexpected tensor '{key}' for {self.name}")
            p = self.params[name]
            if v.numel() != p.numel():
                raise SystemExit(f"error: {source}: '{key}' has the wrong size")
            self.slots[key] = v.reshape(p.shape).to(p.device).clone()
        self.steps = steps


def learning_rate(c, step):
    """nanoGPT's get_lr, as src/train/schedule.ts."""
    warmup = c.get("warmupSteps", 0)
    if step < warmup:
        return c["lr"] * (step + 1) / (warmup + 1)
    if c.get("decay", "constant") == "constant":
        return c["lr"]
    lo = c["minLr"] if c.get("minLr") is not None else c["lr"] / 10
    end = c["decaySteps"] if c.get("decaySteps") is not None else step
    if step >= end:
        return lo
    ratio = (step - warmup) / max(1, end - warmup)
    return lo + 0.5 * (1 + math.cos(math.pi * ratio)) * (c["lr"] - lo)


@torch.no_grad()
def grad_norm(params):
    """Global L2 norm of the gradients (in float64, as inkwell sums)."""
    return math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in params))


def clip_coefficient(norm, max_norm):
    """What clipping to max_norm multiplies the gradients by (1 within it, or when max_norm is 0)."""
    return max_norm / (norm + 1e-6) if max_norm > 0 and norm > max_norm else 1.0


# ---------------------------------------------------------------- the trainer (src/train/trainer.ts)

STATIC_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json")


class Trainer:
    def __init__(self, spec, device):
        self.spec, self.device = spec, device
        self.run_dir, self.data_dir = spec["run_dir"], spec["data_dir"]
        self.cfg = with_defaults(spec["train"])
        self.world = dist.get_world_size() if dist.is_initialized() else 1
        self.rank = dist.get_rank() if dist.is_initialized() else 0
        c = self.cfg
        if c["batchSize"] % self.world:
            raise SystemExit(f"error: batchSize {c['batchSize']} does not split over {self.world} processes; make it a multiple")
        self.share = c["batchSize"] // self.world
        self.rows = slice(self.rank * self.share, (self.rank + 1) * self.share)
        if c.get("threads"):
            torch.set_num_threads(int(c["threads"]))

        if self.rank == 0:
            recover(self.run_dir)
        barrier()
        self.static = {}
        for name in STATIC_FILES:
            try:
                with open(os.path.join(self.run_dir, name), "rb") as f:
                    self.static[name] = f.read()
            except OSError:
                raise SystemExit(f"error: {self.run_dir} is not an inkwell run directory (missing {name})")
        self.model = build_model(os.path.join(self.run_dir, "config.json"))
        load_weights(self.model, os.path.join(self.run_dir, "model.safetensors"))
        self.model.to(device)
        self.names = list(dict(self.model.named_parameters()))
        trainable = c.get("trainable")
        if trainable is not None:
            unknown = set(trainable) - set(self.names)
            if unknown:
                raise SystemExit(f"error: trainable parameter '{sorted(unknown)[0]}' is not in this model")
        params = {n: p for n, p in self.model.named_parameters() if trainable is None or n in trainable}
        for n, p in self.model.named_parameters():
            p.requires_grad_(n in params)
        # inkwell's specs: weight decay on matrices and embeddings, never on biases or norms.
        self.opt = Optimizer(c["optimizer"], params, {n: p.dim() >= 2 for n, p in params.items()}, c.get("lrScale") or {})
        self.train_tokens = open_token_cache(self.data_dir, "train")
        if self.train_tokens is None:
            raise SystemExit(f"error: the token cache {self.data_dir} has no training tokens")
        self.val_tokens = open_token_cache(self.data_dir, "val")
        self.batcher = WindowBatcher(len(self.train_tokens), c["batchSize"], c["contextLength"], c["sampling"], c["seed"])
        self.step, self.best_val, self.best_step, self.evals_without = 0, None, None, 0
        self.elapsed_before = 0.0
        self.rng_state = Rng(f"{_js_number(c['seed'])}:dropout").get_state()
        self.carry = None  # this rank's rows of the recurrent state, by inkwell's names
        if os.path.exists(os.path.join(self.run_dir, "trainer_state.json")):
            self._resume()
        self.ddp = nn.parallel.DistributedDataParallel(self.model, device_ids=[device.index] if device.type == "cuda" else None) if self.world > 1 else self.model

    def _resume(self):
        path = os.path.join(self.run_dir, "trainer_state.json")
        with open(path, encoding="utf-8") as f:
            s = json.load(f)
        if s.get("version") != 1 or not isinstance(s.get("step"), int) or "data" not in s or "rng" not in s:
            raise SystemExit(f"error: {path} is not an inkwell trainer state")
        opt_path = os.path.join(self.run_dir, "optimizer.safetensors")
        tensors, meta = read_safetensors(opt_path)
        if meta.get("step") != str(s["step"]):
            raise SystemExit(f"error: {opt_path} is from step {meta.get('step')}, but trainer_state.json says {s['step']}")
        slots = {k: v for k, v in tensors.items() if not k.startswith("carry.")}
        carry = {k[len("carry."):]: v for k, v in tensors.items() if k.startswith("carry.")}
        self.opt.load_state(slots, s["step"], opt_path)
        if carry:
            L, H = self.model.c["num_layers"], self.model.c["hidden_size"]
            self.carry = {k: v.reshape(L, self.cfg["batchSize"], H)[:, self.rows].contiguous().to(self.device) for k, v in carry.items()}
        self.batcher.restore(s["data"])
        self.rng_state = s["rng"]
        self.step, self.best_val, self.best_step = s["step"], s["bestValLoss"], s["bestStep"]
        self.evals_without, self.elapsed_before = s["evalsWithoutImprovement"], s["elapsedSeconds"]
        if self.rank == 0:
            # The steps this checkpoint covers stay; later lines belong to the lost tail of the old run.
            metrics = os.path.join(self.run_dir, "metrics.jsonl")
            if os.path.exists(metrics):
                with open(metrics, encoding="utf-8") as f:
                    kept = [l for l in f.read().split("\n") if l and json.loads(l)["step"] <= s["step"]]
                with open(metrics, "w", encoding="utf-8") as f:
                    f.write("".join(l + "\n" for l in kept))

    def run(self):
        c = self.cfg
        t0 = time.perf_counter()
        window_start, window_tokens = t0, 0
        last_loss, last_val, stopped = float("nan"), None, False
        while self.step < c["maxSteps"] and not stopped:
            lr = learning_rate(c["schedule"], self.step)
            self.ddp.train()
            loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
            for micro in range(c["gradAccum"]):
                starts, new_epoch = self.batcher.next()
                if new_epoch:
                    self.carry = None
                w = read_rows(self.train_tokens, starts[self.rows], c["contextLength"]).to(self.device)
                # DDP all-reduces on the last micro-batch only; the sum of micro-gradients is divided below.
                sync = micro == c["gradAccum"] - 1 or self.world == 1
                with self.ddp.no_sync() if not sync else contextlib.nullcontext():
                    logits, state = self.ddp(w[:, :-1], self.carry)
                    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1))
                    loss.backward()
                if state is not None:
                    self.carry = {k: v.detach() for k, v in state.items()}
                loss_sum += loss.detach().double()
            params = list(self.opt.params.values())
            # The micro-batches' mean gradient, clipped: one scaling by both, as inkwell's optimizer applies it.
            norm = grad_norm(params) / c["gradAccum"]
            scale = clip_coefficient(norm, c["gradClip"]) / c["gradAccum"]
            if scale != 1:
                for p in params:
                    p.grad.mul_(scale)
            if not math.isfinite(norm) or not math.isfinite(float(loss_sum)):
                raise SystemExit(f"error: training diverged: the loss or gradients became NaN/inf at step {self.step + 1}; the last good checkpoint is in {self.run_dir}")
            self.opt.step(lr)
            for p in params:
                p.grad = None
            self.step += 1
            last_loss = all_mean(loss_sum) / c["gradAccum"]
            window_tokens += c["batchSize"] * c["contextLength"] * c["gradAccum"]
            last = self.step == c["maxSteps"]
            if self.step % c["logInterval"] == 0 or last:
                now = time.perf_counter()
                elapsed = self.elapsed_before + now - t0
                tps = window_tokens / max(now - window_start, 1e-9)
                window_start, window_tokens = now, 0
                self.append_metrics({"step": self.step, "loss": last_loss, "lr": lr, "grad_norm": norm, "tokens_per_s": tps, "elapsed_s": elapsed})
                log(self.rank, f"step {self.step}/{c['maxSteps']} loss {last_loss:.4f} lr {lr:.3g} {tps:,.0f} tok/s")
            if self.val_tokens is not None and ((c["evalInterval"] > 0 and self.step % c["evalInterval"] == 0) or last):
                last_val = self.evaluate()
                improved = self.best_val is None or last_val < self.best_val
                if improved:
                    self.best_val, self.best_step, self.evals_without = last_val, self.step, 0
                    if self.rank == 0:
                        write_files_atomically(os.path.join(self.run_dir, "best"), self.model_files({"format": "pt"}))
                else:
                    self.evals_without += 1
                self.append_metrics({"step": self.step, "val_loss": last_val, "best_val_loss": self.best_val})
                log(self.rank, f"step {self.step}: val loss {last_val:.4f}{' (best)' if improved else ''}")
                stopped = c["patience"] > 0 and self.evals_without >= c["patience"]
            if self.step % c["checkpointInterval"] == 0 or last or stopped:
                self.checkpoint(self.elapsed_before + time.perf_counter() - t0)
        return last_loss, last_val

    @torch.no_grad()
    def evaluate(self):
        """Mean loss over evalBatches fixed validation batches (a fresh seed-1 random batcher, zero state), as inkwell's."""
        c = self.cfg
        self.model.eval()
        batcher = WindowBatcher(len(self.val_tokens), c["batchSize"], c["contextLength"], "random", 1)
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        for _ in range(c["evalBatches"]):
            starts, _ = batcher.next()
            w = read_rows(self.val_tokens, starts[self.rows], c["contextLength"]).to(self.device)
            logits, _ = self.model(w[:, :-1], None)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1)).double()
        return all_mean(total) / c["evalBatches"]

    def model_files(self, metadata):
        files = dict(self.static)
        files["model.safetensors"] = encode_safetensors(dict(self.model.named_parameters()), metadata)
        return files

    def checkpoint(self, elapsed):
        """Weights, optimizer slots (+ the whole batch's carried state), trainer state: one transaction by rank 0."""
        carry = {}
        if self.carry is not None:
            for k, v in self.carry.items():
                full = all_gather_rows(v)  # [L, B, H] in the global batch's row order
                carry["carry." + k] = full
        if self.rank == 0:
            meta = {"step": str(self.step)}
            files = self.model_files({"format": "pt", **meta})
            files["optimizer.safetensors"] = encode_safetensors({**self.opt.state(), **{k: v.reshape(-1) for k, v in carry.items()}}, meta)
            state = {
                "version": 1, "step": self.step, "bestValLoss": self.best_val, "bestStep": self.best_step,
                "evalsWithoutImprovement": self.evals_without, "data": self.batcher.state(), "rng": self.rng_state,
                "config": self.spec["train"], "elapsedSeconds": elapsed,
            }
            files["trainer_state.json"] = (json.dumps(state, indent=2) + "\n").encode()
            write_files_atomically(self.run_dir, files)
            log(0, f"checkpoint at step {self.step} in {self.run_dir}")
        barrier()

    def append_metrics(self, record):
        if self.rank == 0:
            with open(os.path.join(self.run_dir, "metrics.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps(record, separators=(",", ":")) + "\n")


def with_defaults(t):
    for k in ("batchSize", "contextLength", "maxSteps"):
        if not (isinstance(t.get(k), int) and t[k] > 0):
            raise SystemExit(f"error: train.{k} must be a positive integer, got {t.get(k)!r}")
    d = {"gradAccum": 1, "gradClip": 0, "evalInterval": 0, "evalBatches": 20, "patience": 0, "checkpointInterval": t["maxSteps"], "logInterval": 10, "sampling": "random"}
    return {**d, **t}


def barrier():
    if dist.is_initialized():
        dist.barrier()


def all_mean(x):
    """The mean over ranks of a scalar tensor, as a float (every rank gets it)."""
    if dist.is_initialized():
        x = x.clone()
        dist.all_reduce(x)
        x /= dist.get_world_size()
    return float(x)


def all_gather_rows(v):
    """[L, b, H] per rank → [L, world·b, H]."""
    if not dist.is_initialized():
        return v
    parts = [torch.empty_like(v) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, v.contiguous())
    return torch.cat(parts, dim=1)


def log(rank, msg):
    if rank == 0:
        print(msg, file=sys.stderr, flush=True)


def pick_device(want):
    """cuda:<local rank> when asked for or available, else cpu; the process group follows (nccl / gloo)."""
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if want == "cuda" or (want == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise SystemExit("error: device 'cuda' was asked for, but PyTorch sees no GPU")
        torch.cuda.set_device(local)
        # float32 as inkwell computes; TF32 would be faster on recent GPUs but agrees only to ~1e-3.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        return torch.device("cuda", local)
    if want not in ("auto", "cpu"):
        raise SystemExit(f"error: device must be auto, cpu or cuda, got {want!r}")
    return torch.device("cpu")


def read_spec(path):
    try:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: cannot read {path}: {e}")
    if spec.get("version") != 1 or "train" not in spec or "run_dir" not in spec:
        raise SystemExit(f"error: {path} is not an inkwell torch run spec")
    here = os.path.dirname(os.path.abspath(path))
    for k in ("run_dir", "data_dir"):
        spec[k] = os.path.normpath(os.path.join(here, spec[k]))  # relative to the spec file; absolute ones stay
    return spec


# ---------------------------------------------------------------- commands


def cmd_train(a):
    spec = read_spec(a.spec)
    if a.run_dir:
        spec["run_dir"] = os.path.abspath(a.run_dir)
    if a.data_dir:
        spec["data_dir"] = os.path.abspath(a.data_dir)
    device = pick_device(a.device or spec.get("device", "auto"))
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        loss, val = Trainer(spec, device).run()
        log(dist.get_rank() if dist.is_initialized() else 0, json.dumps({"train_loss": loss, "val_loss": val}))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@torch.no_grad()
def cmd_generate(a):
    """Greedy continuation of token ids: prints them as JSON (a cross-check of inkwell's decoder)."""
    model = build_model(os.path.join(a.model, "config.json"))
    recover(a.model)
    load_weights(model, os.path.join(a.model, "model.safetensors"))
    model.eval()
    ids = [int(x) for x in a.ids.split(",")]
    out, state = [], None
    feed = torch.tensor([ids])
    for _ in range(a.max_new_tokens):
        if model.context:  # a window model reads its last `context` tokens again; a recurrent one carries its state
            logits, _ = model(torch.tensor([(ids + out)[-model.context:]]), None)
        else:
            logits, state = model(feed, state)
        nxt = int(logits[0, -1].argmax())
        out.append(nxt)
        feed = torch.tensor([[nxt]])
    print(json.dumps(out))


def cmd_batches(a):
    """Window starts of the first batches the trainer draws, one JSON list per batch (the data order, for checking)."""
    spec = read_spec(a.spec)
    c = with_defaults(spec["train"])
    tokens = open_token_cache(spec["data_dir"], "train")
    b = WindowBatcher(len(tokens), c["batchSize"], c["contextLength"], c["sampling"], c["seed"])
    for _ in range(a.count):
        print(json.dumps(b.next()[0]))


def cmd_launch(argv):
    """torchrun (`python -m torch.distributed.run`) with these arguments, in this process."""
    from torch.distributed import run as torchrun
    from torch.distributed.elastic.multiprocessing import api

    # torch < 2 on Python >= 3.11 parses its own default `--redirects 0` into None (IntFlag iteration skips 0) and fails.
    if api.Std.from_str("0") is None:
        def from_str(vm):
            if re.fullmatch(api._VALUE_REGEX, vm):
                return api.Std(int(vm))
            return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}

        api.Std.from_str = staticmethod(from_str)
    torchrun.main(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["launch"]:
        return cmd_launch(argv[1:])
    p = argparse.ArgumentParser(description="inkwell's PyTorch trainer")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train (or resume) the run a torch_run.json describes")
    t.add_argument("spec")
    t.add_argument("--run-dir", help="the run directory, if it moved (default: the spec's)")
    t.add_argument("--data-dir", help="the token cache, if it moved (default: the spec's)")
    t.add_argument("--device", choices=["auto", "cpu", "cuda"])
    g = sub.add_parser("generate", help="greedy continuation of token ids")
    g.add_argument("--model", required=True)
    g.add_argument("--ids", required=True, help="comma-separated prompt token ids")
    g.add_argument("--max-new-tokens", type=int, default=20)
    b = sub.add_parser("batches", help="print the window starts of the first batches")
    b.add_argument("spec")
    b.add_argument("--count", type=int, default=3)
    a = p.parse_args(argv)
    {"train": cmd_train, "generate": cmd_generate, "batches": cmd_batches}[a.cmd](a)


if __name__ == "__main__":
    main()
