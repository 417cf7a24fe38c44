#!/usr/bin/env python3
"""A tiny checkpoint in the released vilbert-multi-task format, for end-to-end tests.

Builds the authors' released `VILBertForVLTasks` (imported from a checkout given with
--released, as make_golden_steps.py does; nothing of it is copied here) at a tiny size with a
fixed seed, and writes what a user downloads from the release, only small:

  multi_task_model.bin        torch.save(model.state_dict()) of VILBertForVLTasks, as
                              train_tasks.py saves it (no "module." prefix; the legacy
                              non-zip format of the torch 1.x the release used, or --format zip)
  pretrained_model.bin        the same for BertForMultiModalPreTraining (train_concap.py), with
                              the multi-task model's values for every shared name
  bert_config.json            the BertConfig JSON, with exactly the keys of the released
                              config/bert_base_6layer_6conect.json; the model is built from it
                              with the released BertConfig.from_json_file, then
                              task_specific_tokens = True as the 12-in-1 command sets it
  state_dict.txt              name (shape) of every state_dict entry, one per line: the
                              --spec of tools/convert/convert_vilbert_checkpoint.py for this model
  pretrained_state_dict.txt   the same for pretrained_model.bin
  vqa_trainval_label2ans.pkl  answer lists of the VQA / GQA heads as the released data package
  gqa_trainval_label2ans.pkl  has them (pickled list, index = label), and the inverse dicts
  vqa_trainval_ans2label.pkl  (*_ans2label.pkl); for --answers of the converter
  gqa_trainval_ans2label.pkl
  model.toml                  vlmt's model preset for the same sizes (forward_dump --preset
                              FILE; the same keys go under [model] in a run file)
  --golden FILE.npz           (optional) fixed seeded inputs and the released model's outputs
                              on them, see below

Released structure kept: 12 text layers -> --text-layers (2), 6 visual layers ->
--visual-layers (2), one co-attention layer per visual layer; as in the release
(v_biattention_id 0..5, t_biattention_id 6..11 of 12) the co-attention layers sit before each
visual layer and after the first (text layers - visual layers) text layers. The VQA and GQA
heads (hard-coded 3129 / 1533 outputs in the release) are replaced after construction by the
released SimpleClassifier with --vqa-answers (7) / --gqa-answers (5) outputs and re-initialised
with the model's init_weights, as make_golden_steps.py does. --answers-from DATASETS_DIR takes
both answer lists, and so both head sizes, from a released-style datasets/ directory
(VQA/cache/trainval_label2ans.pkl, gqa/cache/trainval_label2ans.pkl, read with
tools/convert/safe_pickle.py); the written *_label2ans.pkl are then those lists and
*_ans2label.pkl their inverses. Sizes: hidden 16, v_hidden 20, bi_hidden 12, 2 heads each;
--v-feature-size (default 24; the released LMDB feature reader hard-codes 2048) and
--max-positions (default 40; GuessWhat's max_seq_length 256 needs more, e.g. 512) set
v_feature_size and max_position_embeddings. After initialisation every
floating-point parameter gets seeded noise (--noise, std 0.3), so no two tensors of one shape
are equal and a swapped or transposed tensor changes the outputs (LayerNorm weights are not all 1,
biases not all 0). At the released initializer_range 0.02 alone the VQA logits of different
inputs differ by ~1e-3; with the noise by ~0.15 (logits spread ~1.8), so an end-to-end
comparison can tell inputs apart.

--golden FILE.npz: one npz, keys input/<name> and output/<name> in forward_dump's names
(docs/MODEL.md). Inputs, seeded: B = 4 rows with task_ids 1 (VQA), 15 (GQA), 9 (RefCOCO),
13 (SNLI-VE), given to the released forward as task_tokens [B, 1]; L = 12 tokens
([CLS] words [SEP], ids 2 / 5.. / 3, 0-padding with text_mask 0 in three rows, segment ids 1 in
the SNLI-VE row's second half); R = 6 regions as the released feature reader gives them:
region 0 the mean of the real boxes' (non-negative) features with spatial [0, 0, 1, 1, 1],
boxes x1 y1 x2 y2 divided by the image width/height and fifth = box area / image area, then
zero padding with image_mask 0 (5, 3, 5, 4 boxes + region 0: 0, 2, 0, 1 padded regions).
Outputs: VILBertForVLTasks.forward in eval mode, run in float64 (the float32 parameters
widened) and stored as float64: vil_prediction, vil_prediction_gqa, vil_logit,
vil_binary_prediction [B/2, 2], vil_tri_prediction, vision_logit [B, R, 1] (with the released
-10000 on padded regions) from its return tuple; sequence_text [B, L+1, hidden] (task token
included), sequence_image, pooled_text, pooled_image from model.bert's return value and fused
(the input of vil_prediction) through forward hooks. The script prints, per output, the
difference between this float64 run and a float32 run of the same model (~1e-6; 1.3e-4 on the
-10000 entries). tests/integration/test_release_forward.sh compares vlmt against it.

Deterministic: the tensors are the same on every run. The zip format's bytes are too; the
legacy format stores storage keys derived from memory addresses, so its bytes differ between
runs while its tensors do not.

Not run by CI. Its output for the end-to-end fixture is committed as tests/data/release/
(the command is in tests/data/release/README.md). Needs Python 3 with PyTorch 1.x (Debian's
python3-torch 1.13) and numpy; the released code's unused imports are stubbed.

    mkdir -p /tmp/rel && git --git-dir=<mirror>/repo archive HEAD | tar -x -C /tmp/rel
    /usr/bin/python3 tools/dev/golden/make_released_checkpoint.py --released /tmp/rel --out /tmp/fixture
"""
import argparse
import collections
import hashlib
import json
import os
import pickle
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden_steps import import_released  # noqa: E402  (the stubs for the released code)


# The keys of the released config/bert_base_6layer_6conect.json, at a tiny size.
def released_style_config(args):
    n_co = args.visual_layers
    return collections.OrderedDict([
        ("attention_probs_dropout_prob", 0.1),
        ("hidden_act", "gelu"),
        ("hidden_dropout_prob", 0.1),
        ("hidden_size", 16),
        ("initializer_range", 0.02),
        ("intermediate_size", 32),
        ("max_position_embeddings", args.max_positions),
        ("num_attention_heads", 2),
        ("num_hidden_layers", args.text_layers),
        ("type_vocab_size", 2),
        ("vocab_size", args.vocab_size),
        ("v_feature_size", args.v_feature_size),
        ("v_target_size", 11),
        ("v_hidden_size", 20),
        ("v_num_hidden_layers", args.visual_layers),
        ("v_num_attention_heads", 2),
        ("v_intermediate_size", 20),
        ("bi_hidden_size", 12),
        ("bi_num_attention_heads", 2),
        ("bi_intermediate_size", 12),
        ("bi_attention_type", 1),
        ("v_attention_probs_dropout_prob", 0.1),
        ("v_hidden_act", "gelu"),
        ("v_hidden_dropout_prob", 0.1),
        ("v_initializer_range", 0.02),
        ("v_biattention_id", list(range(n_co))),
        ("t_biattention_id", list(range(args.text_layers - n_co, args.text_layers))),
        ("pooling_method", "mul"),
    ])


# Answer strings in the style of the released vocabularies (one non-ASCII to exercise UTF-8).
VQA_WORDS = ["yes", "no", "2", "1", "white", "café", "red", "blue", "4", "green", "black",
             "3", "5", "brown", "yellow"]
GQA_WORDS = ["no", "yes", "left", "right", "man", "white", "black", "table", "woman", "blue"]


def answers(words, n, prefix):
    out = list(words[:n])
    out += [f"{prefix} {i}" for i in range(len(out), n)]
    return out


def answers_from(datasets_dir):
    """The VQA and GQA answer lists of a released-style datasets/ directory
    (VQA/cache/trainval_label2ans.pkl, gqa/cache/trainval_label2ans.pkl: pickled lists), read
    with the restricted unpickler of tools/convert/safe_pickle.py."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "convert"))
    import safe_pickle  # noqa: E402
    lists = {}
    for task, sub in (("vqa", "VQA"), ("gqa", "gqa")):
        path = os.path.join(datasets_dir, sub, "cache", "trainval_label2ans.pkl")
        raw = safe_pickle.load(path)
        if not isinstance(raw, list) or not raw or len(set(raw)) != len(raw) \
                or not all(isinstance(a, str) and a for a in raw):
            sys.exit(f"{path}: expected a non-empty list of distinct answer strings")
        lists[task] = raw
    return lists


# ---- golden forward pass -------------------------------------------------------------------
# Official task ids of the four golden rows (vilbert_tasks.yml TASK<id>) and what they are.
GOLDEN_TASKS = [1, 15, 9, 13]  # VQA, GQA, RefCOCO, SNLI-VE
GOLDEN_B, GOLDEN_L, GOLDEN_R = 4, 12, 6
GOLDEN_TEXT_LEN = [12, 9, 7, 11]   # real tokens per row, the rest is padding (text_mask 0)
GOLDEN_BOXES = [5, 3, 5, 4]        # detected boxes per row; +1 for the mean region 0
CLS, SEP = 2, 3                    # token ids in the tiny vocabulary (pad 0)


def golden_inputs(config, seed):
    """Fixed seeded inputs in forward_dump's names, shaped as the released datasets give them:
    text [CLS] w.. [SEP] then 0-padding with text_mask 0 (segment ids 0, and 1 after the first
    [SEP] of the SNLI-VE row's hypothesis-like second half); region 0 is the mean of the real
    boxes' features with spatial [0, 0, 1, 1, 1]; boxes (x1, y1, x2, y2) divided by the image
    size, fifth = box area / image area; padded regions are zero with image_mask 0."""
    rng = np.random.RandomState(seed)
    B, L, R, F = GOLDEN_B, GOLDEN_L, GOLDEN_R, config.v_feature_size
    ids = np.zeros((B, L), np.int64)
    seg = np.zeros((B, L), np.int64)
    tmask = np.zeros((B, L), np.int64)
    for b, n in enumerate(GOLDEN_TEXT_LEN):
        ids[b, 0], ids[b, n - 1] = CLS, SEP
        ids[b, 1:n - 1] = rng.randint(5, config.vocab_size, size=n - 2)
        tmask[b, :n] = 1
    ids[3, 5] = SEP  # [CLS] premise-like [SEP] hypothesis-like [SEP]
    seg[3, 6:GOLDEN_TEXT_LEN[3]] = 1
    feats = np.zeros((B, R, F), np.float32)
    spat = np.zeros((B, R, 5), np.float32)
    imask = np.zeros((B, R), np.int64)
    for b, nb in enumerate(GOLDEN_BOXES):
        w, h = float(rng.randint(320, 641)), float(rng.randint(240, 481))
        f = np.maximum(rng.randn(nb, F), 0).astype(np.float32) * 2  # post-ReLU detector features
        x1 = rng.uniform(0, w * 0.6, nb)
        y1 = rng.uniform(0, h * 0.6, nb)
        x2 = np.minimum(x1 + rng.uniform(16, w * 0.5, nb), w)
        y2 = np.minimum(y1 + rng.uniform(16, h * 0.5, nb), h)
        loc = np.zeros((nb, 5), np.float32)
        loc[:, :4] = np.stack([x1, y1, x2, y2], 1)
        loc[:, 4] = (loc[:, 3] - loc[:, 1]) * (loc[:, 2] - loc[:, 0]) / (w * h)
        loc[:, [0, 2]] /= w
        loc[:, [1, 3]] /= h
        feats[b, 0] = f.sum(0) / nb
        feats[b, 1:nb + 1] = f
        spat[b, 0] = [0, 0, 1, 1, 1]
        spat[b, 1:nb + 1] = loc
        imask[b, :nb + 1] = 1
    return collections.OrderedDict([
        ("input_ids", ids), ("segment_ids", seg), ("text_mask", tmask), ("features", feats),
        ("spatials", spat), ("image_mask", imask),
        ("task_ids", np.array(GOLDEN_TASKS, np.int64))])


def released_forward(model, inputs, dtype):
    """The released VILBertForVLTasks.forward on the inputs, in eval mode and `dtype`, as
    train_tasks.py/eval_tasks.py call it (task_tokens [B, 1] filled with the official task
    id); the trunk outputs (model.bert's return value) and the fused vector (the input of
    vil_prediction) are taken with forward hooks. Returns forward_dump's names -> float64."""
    model = model.to(dtype).eval()
    seen = {}
    hooks = [model.bert.register_forward_hook(lambda m, i, o: seen.__setitem__("bert", o)),
             model.vil_prediction.register_forward_pre_hook(
                 lambda m, i: seen.__setitem__("fused", i[0]))]
    t = {k: torch.from_numpy(v) for k, v in inputs.items()}
    with torch.no_grad():
        out = model(t["input_ids"], t["features"].to(dtype), t["spatials"].to(dtype),
                    t["segment_ids"], t["text_mask"], t["image_mask"],
                    task_ids=t["task_ids"].view(-1, 1))
    for h in hooks:
        h.remove()
    model.float()
    (vil_prediction, vil_prediction_gqa, vil_logit, vil_binary_prediction, vil_tri_prediction,
     _vision_prediction, vision_logit, _linguisic_prediction, _linguisic_logit, _) = out
    seq_t, seq_v, pooled_t, pooled_v, _ = seen["bert"]
    res = collections.OrderedDict([
        ("sequence_text", seq_t), ("sequence_image", seq_v), ("pooled_text", pooled_t),
        ("pooled_image", pooled_v), ("fused", seen["fused"]), ("vil_prediction", vil_prediction),
        ("vil_prediction_gqa", vil_prediction_gqa), ("vil_logit", vil_logit),
        ("vision_logit", vision_logit), ("vil_tri_prediction", vil_tri_prediction),
        ("vil_binary_prediction", vil_binary_prediction)])
    return collections.OrderedDict((k, v.detach().double().numpy()) for k, v in res.items())


def spec_lines(state):
    return [f"{name} ({', '.join(str(d) for d in t.shape)}{',' if t.dim() == 1 else ''})"
            .replace("(,)", "()") for name, t in state.items()]


def generic(name):
    return re.sub(r"\.\d+\.", ".{i}.", name)


def official_generic_names(spec_path):
    """The official parameter list's names with every layer index replaced by {i}."""
    names = set()
    with open(spec_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                names.add(generic(line.split(" ", 1)[0].replace("{i}", "0")))
    return names


def save(obj, path, fmt):
    if fmt == "legacy":
        torch.save(obj, path, _use_new_zipfile_serialization=False)
    else:
        torch.save(obj, path)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("--released", required=True,
                    help="checkout of facebookresearch/vilbert-multi-task")
    ap.add_argument("--out", required=True, help="output directory (e.g. under /tmp)")
    ap.add_argument("--seed", type=int, default=4321)
    ap.add_argument("--text-layers", type=int, default=2)
    ap.add_argument("--visual-layers", type=int, default=2)
    ap.add_argument("--vocab-size", type=int, default=64)
    ap.add_argument("--vqa-answers", type=int, default=7)
    ap.add_argument("--gqa-answers", type=int, default=5)
    ap.add_argument("--answers-from", metavar="DATASETS_DIR",
                    help="take the VQA and GQA answer lists (and so the head sizes) from "
                         "DATASETS_DIR/{VQA,gqa}/cache/trainval_label2ans.pkl instead of "
                         "--vqa-answers/--gqa-answers")
    ap.add_argument("--v-feature-size", type=int, default=24,
                    help="region feature size (the released LMDB reader: 2048)")
    ap.add_argument("--max-positions", type=int, default=40,
                    help="max_position_embeddings (>= the longest max_seq_length used, "
                         "e.g. 512 for GuessWhat's 256)")
    ap.add_argument("--golden", metavar="FILE.npz",
                    help="also write fixed seeded inputs and the released model's outputs")
    ap.add_argument("--noise", type=float, default=0.3,
                    help="std of the seeded noise added to every parameter after init (0: off)")
    ap.add_argument("--format", choices=("legacy", "zip"), default="legacy",
                    help="torch.save format: legacy (torch <= 1.5, as the release) or zip")
    args = ap.parse_args()
    if not 1 <= args.visual_layers <= args.text_layers:
        ap.error("need 1 <= --visual-layers <= --text-layers (one co-attention per visual layer)")

    if args.answers_from:
        answer_lists = answers_from(args.answers_from)
        args.vqa_answers, args.gqa_answers = len(answer_lists["vqa"]), len(answer_lists["gqa"])
    else:
        answer_lists = {"vqa": answers(VQA_WORDS, args.vqa_answers, "vqa answer"),
                        "gqa": answers(GQA_WORDS, args.gqa_answers, "gqa answer")}
    if args.max_positions < GOLDEN_L + 1:
        ap.error(f"--max-positions must be at least {GOLDEN_L + 1}")

    V, _ = import_released(args.released)
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)  # noqa: E731

    # ---- config: written in the released JSON form, read back as train_tasks.py does --------
    cfg_json = released_style_config(args)
    with open(out("bert_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg_json, f, indent=2)
        f.write("\n")
    config = V.BertConfig.from_json_file(out("bert_config.json"))
    config.task_specific_tokens = True  # train_tasks.py --task_specific_tokens (12-in-1 command)

    # ---- the multi-task model -------------------------------------------------------------
    torch.manual_seed(args.seed)
    model = V.VILBertForVLTasks(config, num_labels=args.vqa_answers, dropout_prob=0.1,
                                default_gpu=True)
    bi = config.bi_hidden_size
    model.vil_prediction = V.SimpleClassifier(bi, bi * 2, args.vqa_answers, 0.5)
    model.vil_prediction_gqa = V.SimpleClassifier(bi, bi * 2, args.gqa_answers, 0.5)
    model.vil_prediction.apply(model.init_weights)
    model.vil_prediction_gqa.apply(model.init_weights)
    gen = torch.Generator().manual_seed(args.seed + 1)
    with torch.no_grad():
        for _, p in model.named_parameters():  # tied word embedding / decoder: one Parameter
            if args.noise > 0 and p.is_floating_point():
                p.add_(torch.randn(p.shape, generator=gen) * args.noise)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    state = model.state_dict()  # train_tasks.py: model_to_save.state_dict(), no module. prefix
    save(state, out("multi_task_model.bin"), args.format)

    # ---- the pretraining model (pretrained_model.bin), sharing every common value -----------
    pconfig = V.BertConfig.from_json_file(out("bert_config.json"))  # train_concap.py: no task tokens
    torch.manual_seed(args.seed)
    pre = V.BertForMultiModalPreTraining(pconfig)
    pre_state = pre.state_dict()
    shared = {k: v for k, v in state.items() if k in pre_state and v.shape == pre_state[k].shape}
    pre.load_state_dict(shared, strict=False)
    assert pre.cls.predictions.decoder.weight is pre.bert.embeddings.word_embeddings.weight
    pre_state = pre.state_dict()
    save(pre_state, out("pretrained_model.bin"), args.format)

    # ---- the converter's --spec for both, checked against the official list's structure -----
    for name, sd in (("state_dict.txt", state), ("pretrained_state_dict.txt", pre_state)):
        with open(out(name), "w", encoding="utf-8") as f:
            f.write("\n".join(spec_lines(sd)) + "\n")
    official = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests",
                            "data", "vilbert_state_dict.txt")
    if os.path.exists(official):
        want, got = official_generic_names(official), {generic(n) for n in state}
        if want != got:
            sys.exit("state_dict names differ in structure from tests/data/vilbert_state_dict.txt:"
                     f"\n  only official: {sorted(want - got)}\n  only here: {sorted(got - want)}")
        print(f"names match the structure of {os.path.relpath(official)}")

    # ---- answer vocabularies as the released data package stores them -----------------------
    for task in ("vqa", "gqa"):
        label2ans = answer_lists[task]
        with open(out(f"{task}_trainval_label2ans.pkl"), "wb") as f:
            pickle.dump(label2ans, f, protocol=2)
        with open(out(f"{task}_trainval_ans2label.pkl"), "wb") as f:
            pickle.dump({a: i for i, a in enumerate(label2ans)}, f, protocol=2)

    # ---- vlmt's model preset for the same sizes (forward_dump --preset FILE; the same keys
    # under [model] in a run file) ------------------------------------------------------------
    c = cfg_json
    toml = ["# vlmt model preset for bert_config.json (tools/dev/golden/make_released_checkpoint.py)"]
    for key in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                "intermediate_size", "max_position_embeddings", "type_vocab_size",
                "v_feature_size", "v_target_size", "v_hidden_size", "v_num_hidden_layers",
                "v_num_attention_heads", "v_intermediate_size", "bi_hidden_size",
                "bi_num_attention_heads", "bi_intermediate_size"):
        toml.append(f"{key} = {c[key]}")
    toml.append(f"v_biattention_id = {c['v_biattention_id']}")
    toml.append(f"t_biattention_id = {c['t_biattention_id']}")
    toml.append(f"num_vqa_answers = {args.vqa_answers}")
    toml.append(f"num_gqa_answers = {args.gqa_answers}")
    toml.append("layer_norm_eps = 1e-12")
    toml.append('task_token = "per_dataset"  # task_tokens = the official task id, as released')
    with open(out("model.toml"), "w", encoding="utf-8") as f:
        f.write("\n".join(toml) + "\n")

    # ---- golden forward pass of the released model -----------------------------------------
    if args.golden:
        inputs = golden_inputs(config, args.seed + 2)
        ref = released_forward(model, inputs, torch.float64)
        f32 = released_forward(model, inputs, torch.float32)
        arrays = {f"input/{k}": v for k, v in inputs.items()}
        arrays.update({f"output/{k}": v for k, v in ref.items()})
        np.savez_compressed(args.golden, **arrays)
        for k, v in ref.items():
            d = np.abs(f32[k] - v)
            print(f"golden {k:22s} {str(v.shape):14s} |max| {np.abs(v).max():10.4g}  "
                  f"released float32 vs float64: max abs diff {d.max():.2e}")
        print(f"wrote {args.golden}: " + ", ".join(arrays))

    n_params = sum(t.numel() for n, t in state.items()
                   if n != "cls.predictions.decoder.weight")
    print(f"multi_task_model.bin: {len(state)} tensors, {n_params} elements "
          f"(tied decoder counted once), {args.format} format, "
          f"sha256 {sha256(out('multi_task_model.bin'))[:16]}")
    print(f"pretrained_model.bin: {len(pre_state)} tensors, "
          f"sha256 {sha256(out('pretrained_model.bin'))[:16]}")
    print(f"wrote {args.out}: " + ", ".join(sorted(os.listdir(args.out))))


if __name__ == "__main__":
    main()
