"""Bench inputs for `npm run bench` (scripts/bench/run.mjs): PyTorch twins of every workload,
their ONNX graphs for onnxruntime-web, the weights every engine loads, and the PyTorch
reference outputs the engines are checked against before their timings count.

Writes into an output directory (default build/bench/data):
  mha_<L>_<D>_<H>.onnx / .safetensors   torch.nn.MultiheadAttention, self-attention, batch 1,
      per-head weights (need_weights=True, average_attn_weights=False). safetensors: the
      state_dict ("w.<key>"), the input "in.x" (L, 1, D) and "ref.out" (L, 1, D), "ref.weights" (1, H, L, L).
  enc_<L>_<D>_<H>.onnx / .safetensors   torch.nn.TransformerEncoderLayer(D, H, 4D, dropout=0,
      activation="gelu" (erf), norm_first=True): "w.<key>", "in.x" (L, 1, D), "ref.out".
  gpt_config.json, gpt.safetensors      a GPT-2 (6 layers, 8 heads, n_embd 256, vocab 4096,
      n_positions 256) with random weights in Hugging Face's layout (Conv1D weights (in, out)).
  gpt_prefill.onnx                      input_ids (1, T) -> logits (1, T, V), present.<i>.key/value (1, NH, T, hs)
  gpt_decode.onnx                       input_ids (1, 1), position_ids (1, 1), past_key_values.<i>.key/value
      (1, NH, P, hs) -> logits (1, 1, V), present.<i>.key/value (1, NH, P + 1, hs), as transformers.js decodes.
  gpt_ref.safetensors                   "prompt" (T,), "tokens" (N,) teacher-forced decode tokens,
      "prefill_logits" (T, V), "decode_logits" (N, V).
The twins are written with explicit ops (so the exported graphs are plain MatMul/Softmax
graphs) and checked here against the torch.nn modules they stand for.

Usage: /usr/bin/python3 scripts/bench/export_onnx.py [out_dir] [--only mha_64_128_4,...]
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fixtures import safetensors_io  # noqa: E402

MHA_SHAPES = [(64, 128, 4), (128, 256, 8), (256, 256, 8), (512, 512, 8)]
ENC_SHAPES = [(128, 256, 8), (256, 512, 8)]
GPT = dict(n_layer=6, n_head=8, n_embd=256, vocab_size=4096, n_positions=256)
GPT_PROMPT, GPT_DECODE = 128, 64
OPSET = 14


def sdpa_heads(x, w_in, b_in, w_out, b_out, H):
    """x (L, D) -> out (L, D), weights (H, L, L): nn.MultiheadAttention's self-attention math."""
    L, D = x.shape
    hs = D // H
    qkv = x @ w_in.t() + b_in
    q, k, v = (t.reshape(L, H, hs).transpose(0, 1) for t in qkv.split(D, dim=1))
    p = torch.softmax((q @ k.transpose(1, 2)) * (1.0 / math.sqrt(hs)), dim=-1)
    y = (p @ v).transpose(0, 1).reshape(L, D)
    return y @ w_out.t() + b_out, p


class MhaTwin(torch.nn.Module):
    def __init__(self, mha):
        super().__init__()
        self.m, self.H = mha, mha.num_heads

    def forward(self, x):  # x (L, 1, D)
        m = self.m
        y, p = sdpa_heads(x[:, 0], m.in_proj_weight, m.in_proj_bias, m.out_proj.weight, m.out_proj.bias, self.H)
        return y.unsqueeze(1), p.unsqueeze(0)


class EncTwin(torch.nn.Module):
    def __init__(self, layer, H):
        super().__init__()
        self.l, self.H = layer, H

    def forward(self, x):  # x (L, 1, D)
        l, D = self.l, x.shape[-1]
        h = x[:, 0]
        a = F.layer_norm(h, (D,), l.norm1.weight, l.norm1.bias, l.norm1.eps)
        sa = l.self_attn
        h = h + sdpa_heads(a, sa.in_proj_weight, sa.in_proj_bias, sa.out_proj.weight, sa.out_proj.bias, self.H)[0]
        a = F.layer_norm(h, (D,), l.norm2.weight, l.norm2.bias, l.norm2.eps)
        h = h + F.gelu(a @ l.linear1.weight.t() + l.linear1.bias) @ l.linear2.weight.t() + l.linear2.bias
        return h.unsqueeze(1)


def export(model, args, path, input_names, output_names, dynamic_axes=None):
    torch.onnx.export(model, args, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)


def save(path, tensors, meta):
    safetensors_io.save(path, {k: v.detach().contiguous().numpy() for k, v in tensors.items()}, {"workload": json.dumps(meta)})


def mha(out, L, D, H, g):
    m = torch.nn.MultiheadAttention(D, H).eval()
    x = torch.randn(L, 1, D, generator=g)
    with torch.no_grad():
        ref, w = m(x, x, x, need_weights=True, average_attn_weights=False)
        twin = MhaTwin(m)
        ty, tw = twin(x)
        assert torch.allclose(ty, ref, atol=1e-5) and torch.allclose(tw, w, atol=1e-6), "MHA twin differs from torch"
        name = f"mha_{L}_{D}_{H}"
        export(twin, (x,), f"{out}/{name}.onnx", ["x"], ["out", "weights"])
    save(f"{out}/{name}.safetensors",
         {**{f"w.{k}": v for k, v in m.state_dict().items()}, "in.x": x, "ref.out": ref, "ref.weights": w},
         {"kind": "mha", "L": L, "D": D, "H": H})


def enc(out, L, D, H, g):
    layer = torch.nn.TransformerEncoderLayer(D, H, 4 * D, dropout=0.0, activation="gelu", norm_first=True).eval()
    x = torch.randn(L, 1, D, generator=g)
    with torch.no_grad():
        ref = layer(x)
        twin = EncTwin(layer, H)
        assert torch.allclose(twin(x), ref, atol=1e-4), "encoder twin differs from torch"
        name = f"enc_{L}_{D}_{H}"
        export(twin, (x,), f"{out}/{name}.onnx", ["x"], ["out"])
    save(f"{out}/{name}.safetensors", {**{f"w.{k}": v for k, v in layer.state_dict().items()}, "in.x": x, "ref.out": ref},
         {"kind": "enc", "L": L, "D": D, "H": H, "ff": 4 * D})


def gpt_params(g):
    """torch (out, in) layout; HF's Conv1D layout is the transpose (hf_layout)."""
    c, V, P, NL = GPT["n_embd"], GPT["vocab_size"], GPT["n_positions"], GPT["n_layer"]
    r = lambda *s, std=0.02: torch.randn(*s, generator=g) * std  # noqa: E731
    p = {"wte.weight": r(V, c, std=0.1), "wpe.weight": r(P, c, std=0.05)}
    for i in range(NL):
        h = f"h.{i}."
        p.update({h + "ln_1.weight": 1 + r(c, std=0.1), h + "ln_1.bias": r(c),
                  h + "attn.c_attn.weight": r(3 * c, c, std=0.1), h + "attn.c_attn.bias": r(3 * c),
                  h + "attn.c_proj.weight": r(c, c, std=0.05), h + "attn.c_proj.bias": r(c),
                  h + "ln_2.weight": 1 + r(c, std=0.1), h + "ln_2.bias": r(c),
                  h + "mlp.c_fc.weight": r(4 * c, c, std=0.05), h + "mlp.c_fc.bias": r(4 * c),
                  h + "mlp.c_proj.weight": r(c, 4 * c, std=0.03), h + "mlp.c_proj.bias": r(c)})
    p["ln_f.weight"], p["ln_f.bias"] = 1 + r(c, std=0.1), r(c)
    return p


class GptTwin(torch.nn.Module):
    """GPT-2 (gelu_new MLP, tied head) with a KV cache; bottom-right causal mask over past + new keys."""

    def __init__(self, p, with_past):
        super().__init__()
        self.p = {k: torch.nn.Parameter(v, requires_grad=False) for k, v in p.items()}
        for i, (k, v) in enumerate(self.p.items()):
            self.register_parameter(f"p{i}", v)
        self.with_past = with_past

    def forward(self, ids, position_ids=None, *past):
        p, c, NH, NL = self.p, GPT["n_embd"], GPT["n_head"], GPT["n_layer"]
        hs, T = c // NH, ids.shape[1]
        if position_ids is None:
            position_ids = torch.arange(T).unsqueeze(0)
        x = p["wte.weight"][ids[0]] + p["wpe.weight"][position_ids[0]]
        presents = []
        for i in range(NL):
            h = f"h.{i}."
            a = F.layer_norm(x, (c,), p[h + "ln_1.weight"], p[h + "ln_1.bias"], 1e-5)
            qkv = a @ p[h + "attn.c_attn.weight"].t() + p[h + "attn.c_attn.bias"]
            q, k, v = (t.reshape(T, NH, hs).transpose(0, 1).unsqueeze(0) for t in qkv.split(c, dim=1))
            if self.with_past:
                k = torch.cat([past[2 * i], k], dim=2)
                v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            s = (q @ k.transpose(2, 3)) * (1.0 / math.sqrt(hs))
            if T > 1 or not self.with_past:
                S = k.shape[2]
                keep = torch.arange(S).unsqueeze(0) <= torch.arange(T).unsqueeze(1) + (S - T)
                s = s.masked_fill(~keep, float("-inf"))
            y = (torch.softmax(s, dim=-1) @ v)[0].transpose(0, 1).reshape(T, c)
            x = x + y @ p[h + "attn.c_proj.weight"].t() + p[h + "attn.c_proj.bias"]
            m = F.layer_norm(x, (c,), p[h + "ln_2.weight"], p[h + "ln_2.bias"], 1e-5)
            m = F.gelu(m @ p[h + "mlp.c_fc.weight"].t() + p[h + "mlp.c_fc.bias"], approximate="tanh")
            x = x + m @ p[h + "mlp.c_proj.weight"].t() + p[h + "mlp.c_proj.bias"]
        x = F.layer_norm(x, (c,), p["ln_f.weight"], p["ln_f.bias"], 1e-5)
        return (x @ p["wte.weight"].t()).unsqueeze(0), *presents


def gpt(out, g):
    c, V, NL, NH, P = GPT["n_embd"], GPT["vocab_size"], GPT["n_layer"], GPT["n_head"], GPT["n_positions"]
    p = gpt_params(g)
    conv1d = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
    hf = {"transformer." + k: (v.t() if k.endswith(conv1d) else v) for k, v in p.items()}
    safetensors_io.save(f"{out}/gpt.safetensors", {k: v.contiguous().numpy() for k, v in hf.items()})
    config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": V, "n_positions": P,
              "n_ctx": P, "n_embd": c, "n_layer": NL, "n_head": NH, "n_inner": None,
              "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.0, "embd_pdrop": 0.0,
              "attn_pdrop": 0.0, "initializer_range": 0.02, "bos_token_id": 0, "eos_token_id": 0,
              "scale_attn_weights": True, "tie_word_embeddings": True, "use_cache": True}
    with open(f"{out}/gpt_config.json", "w") as f:
        json.dump(config, f, indent=2)
    prompt = torch.randint(0, V, (1, GPT_PROMPT), generator=g)
    tokens = torch.randint(0, V, (1, GPT_DECODE), generator=g)
    names = [f"{kind}.{i}.{kv}" for i in range(NL) for kind in ["past_key_values"] for kv in ("key", "value")]
    present = [n.replace("past_key_values", "present") for n in names]
    prefill, decode = GptTwin(p, False).eval(), GptTwin(p, True).eval()
    with torch.no_grad():
        logits, *cache = prefill(prompt)
        steps = []
        for j in range(GPT_DECODE):
            pos = torch.tensor([[GPT_PROMPT + j]])
            step, *cache = decode(tokens[:, j:j + 1], pos, *cache)
            steps.append(step[0])
        # Decoding must agree with one pass over prompt + tokens (the cache is right).
        full = prefill(torch.cat([prompt, tokens], dim=1))[0][0]
        assert torch.allclose(torch.cat(steps), full[GPT_PROMPT:], atol=1e-4), "KV-cache decode differs from prefill"
        dyn = {"input_ids": {1: "T"}, "logits": {1: "T"}, **{n: {2: "T"} for n in present}}
        export(prefill, (prompt,), f"{out}/gpt_prefill.onnx", ["input_ids"], ["logits", *present], dyn)
        past_ex = [torch.randn(1, NH, 5, c // NH, generator=g) for _ in names]
        dyn = {**{n: {2: "P"} for n in names}, **{n: {2: "P1"} for n in present}}
        export(decode, (tokens[:, :1], torch.tensor([[5]]), *past_ex), f"{out}/gpt_decode.onnx",
               ["input_ids", "position_ids", *names], ["logits", *present], dyn)
    save(f"{out}/gpt_ref.safetensors",
         {"prompt": prompt[0].float(), "tokens": tokens[0].float(), "prefill_logits": logits[0],
          "decode_logits": torch.cat(steps)},
         {"kind": "gpt", **GPT, "prompt": GPT_PROMPT, "decode": GPT_DECODE})


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--only")]
    only = next((a.split("=", 1)[1].split(",") for a in sys.argv[1:] if a.startswith("--only=")), None)
    out = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../build/bench/data")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(9)
    torch.manual_seed(9)  # module initialisation
    jobs = [(f"mha_{L}_{D}_{H}", lambda L=L, D=D, H=H: mha(out, L, D, H, g)) for L, D, H in MHA_SHAPES]
    jobs += [(f"enc_{L}_{D}_{H}", lambda L=L, D=D, H=H: enc(out, L, D, H, g)) for L, D, H in ENC_SHAPES]
    jobs += [("gpt", lambda: gpt(out, g))]
    for name, job in jobs:
        if only is None or name in only:
            job()
            print(f"export: {name}", flush=True)


if __name__ == "__main__":
    main()
