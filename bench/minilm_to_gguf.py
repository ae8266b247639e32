"""Convert the bundled all-MiniLM-L6-v2 (sentence-transformers, BERT, 384-d) to a GGUF for llama.cpp.

rag embeds in process with this model; an embedding server (``embed.backend = "openai"`` against
``llama-server --embedding``) can run the very same model from this file, so a served index and a
local one hold the same vectors (cosine 0.99996 on average over 50 chunks of ~200 words, 0.9989 at
worst, for chunks past the 256 word-pieces sentence-transformers keeps) and
bench/bench_serve.py compares the HTTP path, not two models:

    pip install gguf==0.19.0            # only this script needs it (numpy, safetensors: already there)
    .venv/bin/python bench/minilm_to_gguf.py     # writes ~/.cache/rag/models/all-MiniLM-L6-v2-f16.gguf
    .venv/bin/python bench/bench_serve.py --skip ask \
        --embed-model ~/.cache/rag/models/all-MiniLM-L6-v2-f16.gguf

Written by hand because llama.cpp's convert_hf_to_gguf.py does not ship on PyPI; it mirrors that
script's BertModel: arch "bert", causal attention off, pooling from the sentence-transformers Pooling
config (MEAN); the WordPiece vocab as tokenizer model "bert" ("##x" stored as "x", other normal tokens
with the "\u2581" phantom-space prefix, control tokens as they are); special tokens through
gguf.SpecialVocab; the BERT pooler and position_ids dropped; norms, biases, position and token-type
embeddings in F32, other 2-D weights in F16 (--outtype f16, the default). llama.cpp lowercases for
this uncased vocab itself; it does not cut at 256 word-pieces as sentence-transformers does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file

from rag.models.bundled import embedder_path

try:
    import gguf
except ImportError:  # only this tool needs it
    raise SystemExit(
        "bench/minilm_to_gguf.py needs the gguf package: .venv/bin/pip install gguf==0.19.0"
    ) from None


def load_json(path: Path) -> dict[str, Any]:
    """A JSON file of the model folder, or {} when it has none."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def pooling_type(model_dir: Path) -> gguf.PoolingType:
    """As the reference's _try_set_pooling_type: read modules.json -> the Pooling module's config."""
    modules = json.loads((model_dir / "modules.json").read_text())
    for mod in modules:
        if mod["type"] == "sentence_transformers.models.Pooling":
            cfg = load_json(model_dir / mod["path"] / "config.json")
            if cfg.get("pooling_mode_mean_tokens"):
                return gguf.PoolingType.MEAN
            if cfg.get("pooling_mode_cls_token"):
                return gguf.PoolingType.CLS
            if cfg.get("pooling_mode_lasttoken"):
                return gguf.PoolingType.LAST
            raise NotImplementedError(f"unsupported pooling config: {cfg}")
    raise ValueError("no Pooling module in modules.json")


def vocab(model_dir: Path, vocab_size: int) -> tuple[list[str], list[int]]:
    """Tokens in id order and their types, as the reference's get_vocab_base + phantom()."""
    tok = load_json(model_dir / "tokenizer.json")
    if tok:
        ids = dict(tok["model"]["vocab"])
        special = {a["content"] for a in tok.get("added_tokens", []) if a.get("special")}
        added = {a["content"]: a["id"] for a in tok.get("added_tokens", [])}
        ids.update(added)
    else:  # vocab.txt only
        lines = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
        ids = {t: i for i, t in enumerate(lines)}
        cfg = load_json(model_dir / "special_tokens_map.json")
        special = {v if isinstance(v, str) else v["content"] for v in cfg.values()}
        added = {t: ids[t] for t in special if t in ids}
    reverse = {i: t for t, i in ids.items()}
    tokens: list[str] = []
    types: list[int] = []
    for i in range(vocab_size):
        t = reverse.get(i)
        if t is None:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif t in added:  # added tokens keep their form
            tokens.append(t)
            types.append(gguf.TokenType.CONTROL if t in special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(t[2:] if t.startswith("##") else "\u2581" + t)
            types.append(gguf.TokenType.NORMAL)
    return tokens, types


def tensor_name(hf: str, tmap: gguf.TensorNameMap) -> str | None:
    """llama.cpp's name for a safetensors tensor; None for what the GGUF leaves out (pooler, heads)."""
    name = hf[5:] if hf.startswith("bert.") else hf
    name = name.replace(".gamma", ".weight").replace(".beta", ".bias")
    if name in ("embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"):
        return None
    if name.startswith(("cls.predictions", "cls.seq_relationship")):
        return None
    new = tmap.get_name(name, try_suffixes=(".weight", ".bias"))
    if new is None:
        raise ValueError(f"cannot map tensor {hf!r}")
    return new


def check_bert(hp: dict[str, Any]) -> None:
    """Refuse a model this converter does not describe, with what differs."""
    wanted = {"model_type": "bert", "position_embedding_type": "absolute", "hidden_act": "gelu"}
    got = {**{"position_embedding_type": "absolute"}, **hp}
    wrong = {k: got.get(k) for k, v in wanted.items() if got.get(k) != v}
    if wrong:
        raise SystemExit(f"Not a BERT model this script converts ({wrong}); it expects {wanted}.")


def write_header(w: Any, d: Path, hp: dict[str, Any], ftype: Any) -> None:
    """Hyper-parameters and vocab, as the reference's set_gguf_parameters and set_vocab."""
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name("all-MiniLM-L6-v2")
    w.add_block_count(hp["num_hidden_layers"])
    w.add_context_length(hp["max_position_embeddings"])
    w.add_embedding_length(hp["hidden_size"])
    w.add_feed_forward_length(hp["intermediate_size"])
    w.add_head_count(hp["num_attention_heads"])
    w.add_layer_norm_eps(hp["layer_norm_eps"])
    w.add_file_type(ftype)
    w.add_causal_attention(False)
    w.add_pooling_type(pooling_type(d))
    tokens, types = vocab(d, hp["vocab_size"])
    w.add_token_type_count(hp.get("type_vocab_size", 1))
    w.add_tokenizer_model("bert")
    w.add_tokenizer_pre("bert-bge")  # what the reference writes for uncased BERT vocabs (unused by WPM)
    w.add_token_list(tokens)
    w.add_token_types(types)
    gguf.SpecialVocab(d, n_vocab=len(tokens)).add_to_gguf(w)


def main() -> int:
    """Convert MODEL_DIR (default: the bundled all-MiniLM-L6-v2) and print the file written."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", type=Path, nargs="?", help="sentence-transformers folder (default: bundled)")
    ap.add_argument("--outfile", type=Path, default=None)
    ap.add_argument("--outtype", choices=("f16", "f32"), default="f16")
    args = ap.parse_args()
    d: Path = args.model_dir or embedder_path()  # reads the package's files, runs none of its code
    hp = load_json(d / "config.json")
    check_bert(hp)
    out = args.outfile or Path(f"~/.cache/rag/models/all-MiniLM-L6-v2-{args.outtype}.gguf").expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    f16 = args.outtype == "f16"
    arch = gguf.MODEL_ARCH.BERT
    w = gguf.GGUFWriter(out, gguf.MODEL_ARCH_NAMES[arch])
    write_header(w, d, hp, gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)
    tmap = gguf.get_tensor_name_map(arch, hp["num_hidden_layers"])
    keep_f32 = ("position_embd.weight", "token_types.weight")
    for hf, arr in load_file(str(d / "model.safetensors")).items():
        name = tensor_name(hf, tmap)
        if name is None:
            continue
        arr = arr.astype(np.float32)
        if f16 and arr.ndim >= 2 and not name.endswith("_norm.weight") and name not in keep_f32:
            arr = arr.astype(np.float16)
        w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
