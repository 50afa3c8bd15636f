#!/usr/bin/python3
"""Writes the PyTorch reference fixtures that test/models/*.test.ts check inkwell against.

Developers run it (the test suite never needs Python or torch):

  /usr/bin/python3 scripts/make_fixtures.py   # Debian's python3-torch

It builds the GPT and LSTM/GRU language models of ../shared/bench/torch_ref.py
at toy sizes with fixed seeds, and stores per model one JSON file under
test/fixtures/: the float32 weights under inkwell's tensor names and layouts, a
batch of input ids and targets, and PyTorch's logits and mean cross-entropy
(plus, for RNNs, the initial and final recurrent state). Reference values are
computed in float64 from those same float32 weights, so the only error left
in a comparison is inkwell's own float32 arithmetic.

It also writes, in llm.c's manner, one training reference per architecture
(torch-train-gpt.json, torch-train-lstm.json): weights, a batch, the logits,
the loss, the gradient of every parameter, and the losses of 10 AdamW steps on
that batch (torch.optim.AdamW with decoupled weight decay on the parameters of
two or more dimensions, as inkwell's specs decay them), all in float64 from the
float32 weights.

JSON layout: every tensor is {"shape": [...], "data": [flat row-major values]}.
"""
import json, os, pathlib, sys

import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent
TORCH_REF = pathlib.Path(os.environ.get("TORCH_REF_DIR", ROOT.parent / "shared" / "bench"))
sys.path.insert(0, str(TORCH_REF))
from torch_ref import GPT, RNNLM  # noqa: E402  (needs the path above)

OUT = ROOT / "test" / "fixtures"
VOCAB, BATCH, SEQ = 11, 3, 8


def tensor(t, digits=9):
    """Flat values; floats with `digits` significant digits (9 round-trips a float32 exactly)."""
    flat = t.detach().reshape(-1).tolist()
    return {"shape": list(t.shape), "data": [float(f"{v:.{digits}g}") for v in flat] if t.is_floating_point() else flat}


def weights(named):
    return {name: tensor(t.float()) for name, t in named}


def batch(seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, VOCAB, (BATCH, SEQ), generator=g)
    targets = torch.randint(0, VOCAB, (BATCH, SEQ), generator=g)
    return ids, targets


def loss_of(logits, targets):
    return F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1)).item()


PROMPT, NEW_TOKENS = 3, 5


def greedy(next_logits, prompt):
    """Greedy continuation of `prompt` (a list of ids): NEW_TOKENS argmax picks, each with its
    margin over the runner-up, so a test can tell a real mismatch from a float32 near-tie."""
    seq, margins = list(prompt), []
    for _ in range(NEW_TOKENS):
        top = torch.topk(next_logits(seq), 2)
        seq.append(int(top.indices[0]))
        margins.append(float(top.values[0] - top.values[1]))
    return {"prompt": list(prompt), "tokens": seq[len(prompt):], "margins": margins}


def gpt_fixture():
    cfg = dict(vocabSize=VOCAB, nPositions=SEQ, nEmbd=16, nLayer=2, nHead=2, bias=True, dropout=0.0, layerNormEps=1e-5)
    torch.manual_seed(0)
    m = GPT(VOCAB, SEQ, cfg["nLayer"], cfg["nHead"], cfg["nEmbd"])
    # GPT-2's init (std 0.02) leaves attention nearly uniform and logits nearly flat, which
    # would hide layout mistakes; larger random weights make every tensor visibly matter.
    with torch.no_grad():
        for name, p in m.named_parameters():
            noise = torch.randn_like(p) * 0.3
            p.copy_(1 + noise if ".ln_" in name and name.endswith(".weight") else noise)
    # torch_ref's nn.Linear stores [out, in]; GPT-2's Conv1D (inkwell's layout) stores [in, out].
    conv1d = (".c_attn.weight", ".c_proj.weight", ".c_fc.weight")
    named = [(n, p.t() if n.endswith(conv1d) else p) for n, p in m.named_parameters()]
    ids, targets = batch(1)
    with torch.no_grad():
        logits = m.double()(ids)
        generated = greedy(lambda seq: m(torch.tensor([seq]))[0, -1], ids[0, :PROMPT].tolist())
    return {"model": "gpt", "config": cfg, "weights": weights(named), "ids": tensor(ids), "targets": tensor(targets),
            "logits": tensor(logits, 10), "loss": loss_of(logits, targets), "greedy": generated}


def rnn_fixture(cell, seed):
    cfg = dict(cell=cell, vocabSize=VOCAB, embeddingDim=6, hiddenSize=8, numLayers=2, dropout=0.0, tieWeights=False)
    torch.manual_seed(seed)
    m = RNNLM(cell, VOCAB, cfg["numLayers"], cfg["embeddingDim"], cfg["hiddenSize"])  # PyTorch's default init
    named = list(m.named_parameters())
    ids, targets = batch(seed + 1)
    # A random initial state checks the [L, B, H] layout of the carried state, not only its zero start.
    shape = (cfg["numLayers"], BATCH, cfg["hiddenSize"])
    state_in = {"state.h": torch.randn(shape) * 0.5}
    if cell == "lstm":
        state_in["state.c"] = torch.randn(shape) * 0.5
    state_in = {k: v.float() for k, v in state_in.items()}
    with torch.no_grad():
        m = m.double()
        h0 = {k: v.double() for k, v in state_in.items()}
        y, state = m.rnn(m.embedding(ids), (h0["state.h"], h0["state.c"]) if cell == "lstm" else h0["state.h"])
        logits = m.head(y)
        generated = greedy(lambda seq: m(torch.tensor([seq]))[0, -1], ids[0, :PROMPT].tolist())  # from a zero state
    state_out = {"state.h": state[0], "state.c": state[1]} if cell == "lstm" else {"state.h": state}
    return {"model": cell, "config": cfg, "weights": weights(named), "ids": tensor(ids), "targets": tensor(targets),
            "state_in": {k: tensor(v) for k, v in state_in.items()},
            "logits": tensor(logits, 10), "loss": loss_of(logits, targets),
            "state_out": {k: tensor(v, 10) for k, v in state_out.items()}, "greedy": generated}


ADAMW = dict(lr=1e-2, betas=[0.9, 0.95], eps=1e-8, weight_decay=0.1, steps=10)
# torch_ref's nn.Linear stores [out, in]; GPT-2's Conv1D (inkwell's layout) stores [in, out].
CONV1D = (".c_attn.weight", ".c_proj.weight", ".c_fc.weight")


def train_fixture(name):
    """Logits, loss and every gradient of one batch, then the losses of ADAMW["steps"] AdamW steps on it (zero RNN state each step)."""
    if name == "gpt":
        cfg = dict(vocabSize=VOCAB, nPositions=SEQ, nEmbd=8, nLayer=2, nHead=2, bias=True, dropout=0.0, layerNormEps=1e-5)
        torch.manual_seed(3)
        m = GPT(VOCAB, SEQ, cfg["nLayer"], cfg["nHead"], cfg["nEmbd"])
        with torch.no_grad():  # visible weights, as in gpt_fixture
            for n, p in m.named_parameters():
                p.copy_(1 + torch.randn_like(p) * 0.3 if ".ln_" in n and n.endswith(".weight") else torch.randn_like(p) * 0.3)
        layout = lambda n, t: t.t() if n.endswith(CONV1D) else t
    else:
        cfg = dict(cell="lstm", vocabSize=VOCAB, embeddingDim=6, hiddenSize=8, numLayers=2, dropout=0.0, tieWeights=False)
        torch.manual_seed(30)
        m = RNNLM("lstm", VOCAB, cfg["numLayers"], cfg["embeddingDim"], cfg["hiddenSize"])
        layout = lambda n, t: t
    m = m.double()  # exactly the float32 weights inkwell gets, computed on in float64
    initial = [(n, layout(n, p.detach().float())) for n, p in m.named_parameters()]
    ids, targets = batch(40 if name == "gpt" else 50)
    logits = m(ids)
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
    loss.backward()
    grads = {n: tensor(layout(n, p.grad), 10) for n, p in m.named_parameters()}
    decay = [n for n, p in m.named_parameters() if p.dim() >= 2]
    opt = torch.optim.AdamW(
        [{"params": [p for p in m.parameters() if p.dim() >= 2], "weight_decay": ADAMW["weight_decay"]},
         {"params": [p for p in m.parameters() if p.dim() < 2], "weight_decay": 0.0}],
        lr=ADAMW["lr"], betas=tuple(ADAMW["betas"]), eps=ADAMW["eps"])
    losses = []
    for _ in range(ADAMW["steps"]):
        opt.zero_grad()
        step_loss = F.cross_entropy(m(ids).reshape(-1, VOCAB), targets.reshape(-1))
        losses.append(step_loss.item())
        step_loss.backward()
        opt.step()
    return {"model": f"train-{name}", "config": cfg, "weights": weights(initial), "ids": tensor(ids), "targets": tensor(targets),
            "logits": tensor(logits.detach(), 10), "loss": loss.item(), "grads": grads,
            "adamw": {**ADAMW, "decay": decay}, "losses": losses}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for fixture in (gpt_fixture(), rnn_fixture("lstm", 10), rnn_fixture("gru", 20), train_fixture("gpt"), train_fixture("lstm")):
        fixture["generator"] = f"scripts/make_fixtures.py, torch {torch.__version__}"
        path = OUT / f"torch-{fixture['model']}.json"
        path.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
