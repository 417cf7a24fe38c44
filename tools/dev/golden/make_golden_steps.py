#!/usr/bin/env python3
"""Golden training steps from the authors' released ViLBERT multi-task code.

Runs facebookresearch/vilbert-multi-task (imported from a checkout given with
--released; nothing of it is copied here) on a small model and writes, for one
batch of every task kind and for pretraining: the inputs, the initial weights,
the loss, the gradient of every parameter and the parameter change after one
optimiser step with the released optimiser settings.  See README.md next to
this file for what each output holds and where each rule comes from.

Not run by CI.  Needs Python 3 with PyTorch 1.x (Debian's python3-torch 1.13),
numpy and PyYAML; the released code's other imports are stubbed.

    /usr/bin/python3 tools/dev/golden/make_golden_steps.py \
        --released /tmp/rel --out tests/data/golden
"""
import argparse
import copy
import json
import math
import os
import struct

import numpy as np
import torch

from released_env import Dummy, add_released, stub, stub_utility_imports

SEED = 1234
TASKS_12IN1 = "1-2-4-7-8-9-10-11-12-13-15-17"  # --tasks of the README's multi-task command
BASE_LR = 2e-5        # multi-task base_lr (min of the task lrs of the 12-in-1 run; checked)
VIL_LR = 1e-4         # train_tasks.py: names containing "vil_"
PRETRAIN_LR = 1e-4    # train_concap.py --learning_rate default
WEIGHT_DECAY = 0.01
NO_DECAY = ["bias", "LayerNorm.bias", "LayerNorm.weight"]  # as in both training scripts
NUM_VQA_ANSWERS = 12  # replaces the released 3129
NUM_GQA_ANSWERS = 9   # replaces the released 1533

# token ids of our 64-word vocabulary
PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
FIRST_WORD = 5

MODEL_CONFIG = dict(
    vocab_size=64,
    hidden_size=24,
    num_hidden_layers=4,
    num_attention_heads=2,
    intermediate_size=48,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,            # inactive: model.eval()
    attention_probs_dropout_prob=0.1,   # inactive: model.eval()
    max_position_embeddings=40,
    type_vocab_size=2,
    # 0.02 (the released value) leaves attention/query gradients at ~1e-8 in this small
    # model (tiny pooled products); 0.2 gives gradients of 1e-3..1 everywhere
    initializer_range=0.2,
    v_feature_size=8,
    v_target_size=10,
    v_hidden_size=16,
    v_num_hidden_layers=2,
    v_num_attention_heads=2,
    v_intermediate_size=16,
    bi_hidden_size=16,
    bi_num_attention_heads=2,
    v_attention_probs_dropout_prob=0.1,
    v_hidden_act="gelu",
    v_hidden_dropout_prob=0.1,
    v_initializer_range=0.02,           # not read by the released model
    v_biattention_id=[0, 1],
    t_biattention_id=[2, 3],
    visual_target=0,
    fast_mode=False,
    fixed_v_layer=0,
    fixed_t_layer=0,
    in_batch_pairs=False,
    fusion_method="mul",
    dynamic_attention=False,
    with_coattention=True,
    objective=0,
    num_negative=128,
    model="bert",
    task_specific_tokens=True,
    visualization=False,
)
# present in the released json configs but never read by vilbert/vilbert.py
UNREAD_CONFIG = dict(bi_intermediate_size=16, pooling_method="mul", bi_attention_type=1)


# --------------------------------------------------------------------------------------
# importing the released code
# --------------------------------------------------------------------------------------
def import_released(path):
    """Imports vilbert.vilbert and vilbert.task_utils from the released checkout,
    with empty stand-ins for the modules they import but that we do not use."""
    add_released(path)
    stub_utility_imports()
    # vilbert/task_utils.py
    stub("pytorch_transformers")
    stub("pytorch_transformers.tokenization_bert", BertTokenizer=Dummy)
    import vilbert  # the real (empty) package

    stub("vilbert.datasets", DatasetMapTrain={}, DatasetMapEval={})
    stub("vilbert.datasets._image_features_reader", ImageFeaturesH5Reader=Dummy)
    import vilbert.vilbert as V
    import vilbert.task_utils as TU

    return V, TU


# --------------------------------------------------------------------------------------
# pytorch_transformers.optimization.AdamW (pytorch-transformers 1.0.0, pinned in the
# released requirements.txt), re-implemented here since the package is not installed.
# Its step(), per parameter p of a group with p.grad not None:
#   state step += 1 (state created with step 0, m = v = 0 at the first step)
#   m = beta1*m + (1-beta1)*g ;  v = beta2*v + (1-beta2)*g*g
#   denom = sqrt(v) + eps
#   step_size = lr, times sqrt(1-beta2^step)/(1-beta1^step) if correct_bias
#   p -= step_size * m / denom
#   if weight_decay > 0: p -= lr * weight_decay * p      (on the already updated p)
# Parameters whose .grad is None are skipped entirely (no decay either).
# Defaults: betas (0.9, 0.999), eps 1e-6, weight_decay 0, correct_bias True.
# --------------------------------------------------------------------------------------
class AdamW(object):
    def __init__(self, groups, lr, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0,
                 correct_bias=True):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        correct_bias=correct_bias)
        self.param_groups = []
        for group in groups:
            full = dict(defaults)
            full.update(group)
            self.param_groups.append(full)
        self.state = {}

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                state = self.state.setdefault(id(p), {})
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p.data)
                    state["exp_avg_sq"] = torch.zeros_like(p.data)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                beta1, beta2 = group["betas"]
                state["step"] += 1
                exp_avg.mul_(beta1).add_(grad, alpha=1.0 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                denom = exp_avg_sq.sqrt().add_(group["eps"])
                step_size = group["lr"]
                if group["correct_bias"]:
                    bias_correction1 = 1.0 - beta1 ** state["step"]
                    bias_correction2 = 1.0 - beta2 ** state["step"]
                    step_size = step_size * math.sqrt(bias_correction2) / bias_correction1
                p.data.addcdiv_(exp_avg, denom, value=-step_size)
                if group["weight_decay"] > 0.0:
                    p.data.add_(p.data, alpha=-group["lr"] * group["weight_decay"])


def multitask_groups(model):
    """train_tasks.py: one group per parameter of dict(model.named_parameters());
    lr 1e-4 if "vil_" in the name else base_lr; weight decay 0 if any no_decay entry is a
    substring of the name, else 0.01 (no --freeze, no --vision_scratch)."""
    groups, table = [], {}
    for key, value in dict(model.named_parameters()).items():
        lr = VIL_LR if "vil_" in key else BASE_LR
        wd = 0.0 if any(nd in key for nd in NO_DECAY) else WEIGHT_DECAY
        groups.append({"params": [value], "lr": lr, "weight_decay": wd})
        table[key] = (lr, wd)
    return groups, table


def pretrain_groups(model, bert_weight_name):
    """train_concap.py with --from_pretrained set (its default is "bert-base-uncased"):
    one group per parameter; lr = learning_rate*0.1 if key[12:] is in
    bert-base-uncased_weight_name.json, else learning_rate; decay as above."""
    groups, table = [], {}
    for key, value in dict(model.named_parameters()).items():
        lr = PRETRAIN_LR * 0.1 if key[12:] in bert_weight_name else PRETRAIN_LR
        wd = 0.0 if any(nd in key for nd in NO_DECAY) else WEIGHT_DECAY
        groups.append({"params": [value], "lr": lr, "weight_decay": wd})
        table[key] = (lr, wd)
    return groups, table


# --------------------------------------------------------------------------------------
# safetensors writer
# --------------------------------------------------------------------------------------
_DTYPES = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"),
           torch.int64: ("I64", "<i8")}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor) in file order; metadata: dict str -> str."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        t = t.detach().cpu().contiguous()
        code, np_dtype = _DTYPES[t.dtype]
        data = t.numpy().astype(np_dtype, copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Reads back what write_safetensors wrote (self-check)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        np_dtype = {"F32": "<f4", "F64": "<f8", "I64": "<i8"}[e["dtype"]]
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype=np_dtype).reshape(e["shape"])
    return out, header.get("__metadata__", {})


# --------------------------------------------------------------------------------------
# synthetic inputs, shaped as the released datasets / DataLoader give them
# --------------------------------------------------------------------------------------
class Inputs(object):
    def __init__(self, seed):
        self.rng = np.random.RandomState(seed)

    def text(self, lengths, L):
        """[CLS] words [SEP] then zero padding; input_mask 1 on real tokens; segment 0."""
        B = len(lengths)
        q = np.zeros((B, L), np.int64)
        m = np.zeros((B, L), np.int64)
        for b, n in enumerate(lengths):
            assert 3 <= n <= L
            q[b, 0] = CLS
            q[b, 1:n - 1] = self.rng.randint(FIRST_WORD, MODEL_CONFIG["vocab_size"], n - 2)
            q[b, n - 1] = SEP
            m[b, :n] = 1
        return torch.from_numpy(q), torch.from_numpy(m), torch.zeros((B, L), dtype=torch.int64)

    def boxes(self, n):
        """n normalised boxes [x1, y1, x2, y2, area]."""
        x = np.sort(self.rng.uniform(0.0, 1.0, (n, 2)), axis=1)
        y = np.sort(self.rng.uniform(0.0, 1.0, (n, 2)), axis=1)
        x[:, 1] = np.maximum(x[:, 1], x[:, 0] + 0.05).clip(max=1.0)
        y[:, 1] = np.maximum(y[:, 1], y[:, 0] + 0.05).clip(max=1.0)
        area = (x[:, 1] - x[:, 0]) * (y[:, 1] - y[:, 0])
        return np.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1], area], axis=1)

    def image(self, num_real, R):
        """One image as the feature reader + dataset pad it: slot 0 = global (mean of the
        detections, box [0,0,1,1,1]), then num_real-1 detections, zero padding to R."""
        F = MODEL_CONFIG["v_feature_size"]
        feat = np.zeros((R, F), np.float32)
        loc = np.zeros((R, 5), np.float32)
        mask = np.zeros((R,), np.int64)
        det = np.abs(self.rng.normal(0.0, 1.0, (num_real - 1, F)))
        feat[1:num_real] = det
        feat[0] = det.mean(axis=0)
        loc[0] = [0, 0, 1, 1, 1]
        loc[1:num_real] = self.boxes(num_real - 1)
        mask[:num_real] = 1
        return feat, loc, mask

    def images(self, nums, R):
        parts = [self.image(n, R) for n in nums]
        return (torch.from_numpy(np.stack([p[0] for p in parts])),
                torch.from_numpy(np.stack([p[1] for p in parts])),
                torch.from_numpy(np.stack([p[2] for p in parts])))


def ordered_batch(names, values):
    assert len(names) == len(values)
    return list(zip(names, values))


VL_NAMES = ["features", "spatials", "image_mask", "question", "target", "input_mask",
            "segment_ids", "co_attention_mask", "question_id"]
MC_NAMES = ["features", "spatials", "image_mask", "question", "target", "input_mask",
            "segment_ids", "multiple_choice_ids", "co_attention_mask", "question_id"]
PT_NAMES = ["input_ids", "input_mask", "segment_ids", "lm_label_ids", "is_next",
            "image_feat", "image_loc", "image_target", "image_label", "image_mask"]


def make_batches():
    gen = Inputs(SEED + 1)
    batches = {}

    # 1. VQA (vqa_dataset.py): target = soft scores [B, num_answers]
    B, L, R = 2, 10, 6
    q, m, s = gen.text([10, 7], L)
    f, sp, im = gen.images([6, 4], R)
    target = torch.zeros(B, NUM_VQA_ANSWERS)
    target[0, 3], target[0, 7] = 1.0, 0.3
    target[1, 0], target[1, 11], target[1, 5] = 0.6, 0.9, 0.3
    batches["vqa"] = ordered_batch(VL_NAMES, [f, sp, im, q, target, m, s,
                                              torch.zeros(B, R, L),
                                              torch.tensor([101, 102])])

    # 2. GQA (gqa_dataset.py): target [B, 9], one answer with score 1
    B, L, R = 2, 9, 5
    q, m, s = gen.text([9, 6], L)
    f, sp, im = gen.images([5, 3], R)
    target = torch.zeros(B, NUM_GQA_ANSWERS)
    target[0, 4] = 1.0
    target[1, 8] = 1.0
    batches["gqa"] = ordered_batch(VL_NAMES, [f, sp, im, q, target, m, s,
                                              torch.zeros(B, R, L),
                                              torch.tensor([201, 202])])

    # 3. COCO retrieval (retreival_dataset.py, train): 4 (image, caption) options per item
    B, O, L, R = 2, 4, 8, 5
    qs, ms, ss, fs, sps, ims = [], [], [], [], [], []
    for b in range(B):
        q, m, s = gen.text([8, 6, 8, 7] if b == 0 else [5, 8, 6, 8], L)
        img1 = gen.image(5 if b == 0 else 4, R)   # option 1 = the positive pair
        img3 = list(gen.image(3, R))               # option 3 = a random other image
        # the released code writes image 3 into image 1's padded buffer, so its padded
        # slots (image_mask 0) keep image 1's rows
        img3[0][3:], img3[1][3:] = img1[0][3:], img1[1][3:]
        opts = [img1, img1, img3, img1]           # options 2 and 4: other captions
        q[2], m[2], s[2] = q[0], m[0], s[0]        # option 3 reuses caption 1
        qs.append(q); ms.append(m); ss.append(s)
        fs.append(np.stack([o[0] for o in opts])); sps.append(np.stack([o[1] for o in opts]))
        ims.append(np.stack([o[2] for o in opts]))
    batches["retrieval_coco"] = ordered_batch(VL_NAMES, [
        torch.from_numpy(np.stack(fs)), torch.from_numpy(np.stack(sps)),
        torch.from_numpy(np.stack(ims)), torch.stack(qs),
        torch.tensor([0, 2]),  # released train set always gives 0; 2 exercises the index
        torch.stack(ms), torch.stack(ss), torch.zeros(B, O, R, L), torch.tensor([301, 302])])

    # 4. RefCOCO (refer_expression_dataset.py, train): target [B, R, 1] = IoU, <0.5 -> 0
    B, L, R = 2, 11, 7
    q, m, s = gen.text([11, 8], L)
    f, sp, im = gen.images([7, 6], R)     # item 1: slot 6 padded
    target = torch.tensor([[0.62, 0.0, 0.81, 0.0, 0.0, 1.0, 0.0],
                           [0.0, 0.55, 0.0, 0.0, 1.0, 0.0, 0.0]]).unsqueeze(2)
    batches["refcoco"] = ordered_batch(VL_NAMES, [f, sp, im, q, target, m, s,
                                                  torch.zeros(B, R, L),
                                                  torch.tensor([401, 402])])

    # 5. Visual7W pointing (visual7w_pointing_dataset.py): regions = 101 detection slots
    # (global + 100 detections) then the ground-truth boxes, padded; target [B, 4, 1] =
    # IoU of the 4 candidate gt boxes with the answer box; multiple_choice_ids [B, 4]
    # index the gt boxes (i.e. regions 101 + idx).
    B, L, R = 2, 12, 107
    q, m, s = gen.text([12, 9], L)
    f, sp, im = gen.images([106, 105], R)  # 5 resp. 4 gt boxes; 1 resp. 2 padded slots
    mc = torch.tensor([[0, 2, 3, 4], [0, 1, 2, 3]])
    target = torch.tensor([[0.0, 1.0, 0.0, 0.58], [0.0, 0.0, 1.0, 0.0]]).unsqueeze(2)
    batches["visual7w"] = ordered_batch(MC_NAMES, [f, sp, im, q, target, m, s, mc,
                                                   torch.zeros(B, R, L),
                                                   torch.tensor([501, 502])])

    # 6. NLVR2 (nlvr2_dataset.py): both images' regions concatenated [B, 2R, ...], one
    # question per item, one-hot target [B, 2]
    B, L, R = 2, 9, 5
    q, m, s = gen.text([9, 7], L)
    fa, spa, ima = gen.images([5, 5], R)   # image 0 of each pair: all R slots real
    fb, spb, imb = gen.images([5, 3], R)   # image 1: item 1 has 2 padded slots
    f = torch.cat([fa, fb], dim=1)
    sp = torch.cat([spa, spb], dim=1)
    im = torch.cat([ima, imb], dim=1)
    target = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    batches["nlvr2"] = ordered_batch(VL_NAMES, [f, sp, im, q, target, m, s,
                                                torch.zeros(B, 2 * R, L),
                                                torch.tensor([601, 602])])

    # 7. SNLI-VE (visual_entailment_dataset.py): LABEL_MAP contradiction 0, neutral 1,
    # entailment 2; one-hot target [B, 3].  B = 3 (odd: the binary head is skipped).
    B, L, R = 3, 8, 4
    q, m, s = gen.text([8, 6, 5], L)
    f, sp, im = gen.images([4, 3, 4], R)
    target = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    batches["snli_ve"] = ordered_batch(VL_NAMES, [f, sp, im, q, target, m, s,
                                                  torch.zeros(B, R, L),
                                                  torch.tensor([701, 702, 703])])

    # 8. Pretraining (concept_cap_dataset.py, ConceptCapLoaderTrain): image_feat /
    # image_loc / image_mask include the prepended global region, image_target /
    # image_label cover only the R-1 boxes after it.
    B, L, Rb, T = 2, 10, 5, MODEL_CONFIG["v_target_size"]
    R = Rb + 1
    q, m, s = gen.text([10, 8], L)
    lm = torch.full((B, L), -1, dtype=torch.int64)
    for b, positions in enumerate([[2, 5], [1, 4, 6]]):
        for pos in positions:
            lm[b, pos] = q[b, pos]
            q[b, pos] = MASK
    q[1, 6] = 17  # a "random word" replacement (still predicted)
    is_next = torch.tensor([0, 1])  # 0: the image's own caption, 1: a random caption
    num_boxes = [5, 4]              # real boxes after the global slot
    image_label = torch.full((B, Rb), -1, dtype=torch.int64)
    image_label[0, 1] = image_label[0, 3] = 1
    image_label[1, 0] = 1
    feat = np.zeros((B, R, MODEL_CONFIG["v_feature_size"]), np.float32)
    loc = np.zeros((B, R, 5), np.float32)
    mask = np.zeros((B, R), np.int64)
    tgt = np.zeros((B, Rb, T), np.float32)
    for b in range(B):
        n = num_boxes[b]
        det = np.abs(gen.rng.normal(0.0, 1.0, (n, feat.shape[2]))).astype(np.float32)
        det[(image_label[b, :n] == 1).numpy()] = 0.0   # masked regions are zeroed
        feat[b, 1:1 + n] = det
        feat[b, 0] = det.sum(axis=0) / max(1, n)       # global region
        loc[b, 0] = [0, 0, 1, 1, 1]
        loc[b, 1:1 + n] = gen.boxes(n)
        mask[b, :1 + n] = 1
        logits = gen.rng.normal(0.0, 2.0, (n, T))
        tgt[b, :n] = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    batches["pretrain"] = ordered_batch(PT_NAMES, [
        q, m, s, lm, is_next, torch.from_numpy(feat), torch.from_numpy(loc),
        torch.from_numpy(tgt), image_label, torch.from_numpy(mask)])
    return batches


CASES = {
    # case: (released task id, yml key)
    "vqa": ("TASK1", "TASK1"),
    "gqa": ("TASK15", "TASK15"),
    "retrieval_coco": ("TASK7", "TASK7"),
    "refcoco": ("TASK9", "TASK9"),
    "visual7w": ("TASK4", "TASK4"),
    "nlvr2": ("TASK12", "TASK12"),
    "snli_ve": ("TASK13", "TASK13"),
}


# --------------------------------------------------------------------------------------
# running the released code
# --------------------------------------------------------------------------------------
class _Iter(object):
    def __init__(self, batch):
        self.batch = batch

    def __iter__(self):
        return self

    def __next__(self):
        return self.batch

    next = __next__  # the released loop calls .next() (Python 2 style)


class _Loader(object):
    def __init__(self, batch):
        self.batch = batch

    def __len__(self):
        return 1

    def __iter__(self):
        return _Iter(self.batch)


def to_model_dtype(t):
    """Floats of the batch are fed as float64 (exact copies of the stored float32)."""
    return t.double() if t.is_floating_point() else t


def released_forward_train(TU, task_cfg, task_losses, task_id, batch, model):
    tensors = tuple(to_model_dtype(t) for _, t in batch)
    loss, score = TU.ForwardModelsTrain(
        None, task_cfg, "cpu", task_id, {task_id: 0}, {task_id: None},
        {task_id: _Loader(tensors)}, model, task_losses)
    return loss


def params_snapshot(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def collect(model, initial):
    grads, deltas = [], []
    for n, p in model.named_parameters():
        if p.grad is not None:
            grads.append(("grad/" + n, p.grad.detach().float()))
    for n, p in model.named_parameters():
        d = p.detach() - initial[n]
        if bool((d != 0).any()):
            deltas.append(("delta/" + n, d.float()))
    return grads, deltas


def prepare(model):
    """float64 compute; every initial value exactly representable in float32."""
    model.double()
    for p in model.parameters():
        p.data = p.data.float().double()
    model.eval()  # the released forward only uses .training through nn.Dropout
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--released", required=True,
                    help="checkout of facebookresearch/vilbert-multi-task")
    ap.add_argument("--out", default="tests/data/golden", help="output directory")
    args = ap.parse_args()

    V, TU = import_released(args.released)
    import yaml

    torch.Tensor.cuda = lambda self, *a, **k: self  # CPU only
    torch.set_default_dtype(torch.float32)
    os.makedirs(args.out, exist_ok=True)

    with open(os.path.join(args.released, "vilbert_tasks.yml")) as f:
        task_cfg = yaml.safe_load(f)
    with open(os.path.join(args.released, "config", "bert-base-uncased_weight_name.json")) as f:
        bert_weight_name = json.load(f)
    # task_utils.LoadLosses: one loss module per task from the yml's "loss" field
    task_losses = {tid: TU.LossMap[task_cfg[tid]["loss"]] for tid, _ in CASES.values()}
    # train_tasks.py:239-251: base_lr = the smallest LR of the run's tasks; each task's loss is
    # multiplied by its LR / base_lr before backward (:536)
    task_lr = {"TASK" + t: task_cfg["TASK" + t]["lr"] for t in TASKS_12IN1.split("-")}
    assert min(task_lr.values()) == BASE_LR
    loss_scale = {t: lr / BASE_LR for t, lr in task_lr.items()}

    # ---- the multi-task model -------------------------------------------------------
    torch.manual_seed(SEED)
    cfg_kwargs = dict(MODEL_CONFIG)
    vocab = cfg_kwargs.pop("vocab_size")
    config = V.BertConfig(vocab, **cfg_kwargs)
    for k, v in UNREAD_CONFIG.items():
        setattr(config, k, v)
    model = V.VILBertForVLTasks(config, num_labels=NUM_VQA_ANSWERS, dropout_prob=0.1,
                                default_gpu=True)
    bi = config.bi_hidden_size
    # only the answer counts differ from the released heads (3129 / 1533)
    model.vil_prediction = V.SimpleClassifier(bi, bi * 2, NUM_VQA_ANSWERS, 0.5)
    model.vil_prediction_gqa = V.SimpleClassifier(bi, bi * 2, NUM_GQA_ANSWERS, 0.5)
    model.vil_prediction.apply(model.init_weights)
    model.vil_prediction_gqa.apply(model.init_weights)
    prepare(model)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    base_model = model

    state = base_model.state_dict()
    write_safetensors(os.path.join(args.out, "initial.safetensors"),
                      [(n, t.float()) for n, t in state.items()],
                      {"what": "initial parameters of the multi-task model (state_dict names)",
                       "seed": str(SEED)})
    initial_mt = params_snapshot(base_model)

    batches = make_batches()
    summary = {}

    _, mt_table = multitask_groups(base_model)
    mt_meta = {
        "optimizer": "AdamW (pytorch_transformers 1.0.0)",
        "lr_vil": repr(VIL_LR), "lr_base": repr(BASE_LR),
        "lr_rule": "lr_vil if 'vil_' in name else lr_base",
        "betas": "0.9,0.999", "eps": "1e-06", "correct_bias": "false",
        "weight_decay": repr(WEIGHT_DECAY),
        "no_decay": json.dumps(NO_DECAY),
        "weight_decay_rule": "0 if any no_decay entry is a substring of the name else 0.01",
        "loss_scale": "task lr / base lr (train_tasks.py:251)", "scheduler": "none (lr as given)",
        "compute_dtype": "float64", "mode": "eval (no dropout)",
    }

    def run_case(name, task_id, mdl=None):
        mdl = copy.deepcopy(base_model) if mdl is None else mdl
        assert mdl.cls.predictions.decoder.weight is mdl.bert.embeddings.word_embeddings.weight
        groups, _ = multitask_groups(mdl)
        opt = AdamW(groups, lr=BASE_LR, correct_bias=False)
        loss = released_forward_train(TU, task_cfg, task_losses, task_id, batches[name], mdl)
        loss = loss * loss_scale[task_id]
        loss.backward()
        return mdl, opt, loss

    for name, (task_id, _) in CASES.items():
        mdl, opt, loss = run_case(name, task_id)
        opt.step()
        grads, deltas = collect(mdl, initial_mt)
        meta = dict(mt_meta)
        meta.update({"case": name, "task_id": task_id, "task_token": task_id[4:],
                     "task_lr": repr(task_lr[task_id]), "loss_scale": repr(loss_scale[task_id]),
                     "type": task_cfg[task_id]["type"],
                     "process": task_cfg[task_id]["process"],
                     "loss_fn": task_cfg[task_id]["loss"]})
        tensors = [("input/" + n, t) for n, t in batches[name]]
        tensors.append(("loss", loss.detach().reshape(1).double()))
        write_safetensors(os.path.join(args.out, name + ".safetensors"),
                          tensors + grads + deltas, meta)
        summary[name] = dict(loss=float(loss), grads=len(grads), deltas=len(deltas))
        print("%-15s loss %.10f  params with grad %d  changed %d"
              % (name, float(loss), len(grads), len(deltas)))

    # ---- vqa then nlvr2 with one optimiser --------------------------------------------
    mdl, opt, loss1 = run_case("vqa", "TASK1")
    opt.step()
    try:
        mdl.zero_grad(set_to_none=False)  # PyTorch 1.x semantics: zeros, not None
    except TypeError:
        mdl.zero_grad()
    loss2 = released_forward_train(TU, task_cfg, task_losses, "TASK12", batches["nlvr2"], mdl)
    loss2 = loss2 * loss_scale["TASK12"]
    loss2.backward()
    head = dict(mdl.named_parameters())["vil_prediction.logit_fc.3.weight"]
    assert head.grad is not None and float(head.grad.abs().max()) == 0.0
    before = head.detach().clone()
    opt.step()
    moved = float((head.detach() - before).abs().max())
    print("vqa_then_nlvr2: VQA head grad is zero in step 2, it still moved by max |d| = %.3e"
          % moved)
    assert moved > 0
    grads, deltas = collect(mdl, initial_mt)
    meta = dict(mt_meta)
    meta.update({"case": "vqa_then_nlvr2", "task_id": "TASK1,TASK12",
                 "type": "VL-classifier,VL-binary-classifier",
                 "steps": "step 1: vqa batch (input_step1/*); model.zero_grad() (zeros); "
                          "step 2: nlvr2 batch (input/*); same optimiser; grads of step 2, "
                          "deltas after step 2 relative to initial"})
    tensors = [("input_step1/" + n, t) for n, t in batches["vqa"]]
    tensors += [("input/" + n, t) for n, t in batches["nlvr2"]]
    tensors.append(("loss", loss2.detach().reshape(1).double()))
    tensors.append(("loss_step1", loss1.detach().reshape(1).double()))
    write_safetensors(os.path.join(args.out, "vqa_then_nlvr2.safetensors"),
                      tensors + grads + deltas, meta)
    summary["vqa_then_nlvr2"] = dict(loss=float(loss2), loss_step1=float(loss1),
                                     grads=len(grads), deltas=len(deltas),
                                     vqa_head_max_move=moved)
    print("%-15s loss %.10f (step 1 %.10f)  params with grad %d  changed %d"
          % ("vqa_then_nlvr2", float(loss2), float(loss1), len(grads), len(deltas)))

    # ---- pretraining ------------------------------------------------------------------
    pt_config = copy.deepcopy(config)
    pt_config.task_specific_tokens = False  # train_concap.py never sets it
    torch.manual_seed(SEED + 2)
    pt = V.BertForMultiModalPreTraining(pt_config)
    pt_state = pt.state_dict()
    shared = {n: t for n, t in state.items() if n in pt_state}
    for n, t in shared.items():
        assert t.shape == pt_state[n].shape, n
    missing, _ = pt.load_state_dict({n: t.float() for n, t in shared.items()}, strict=False)
    pt_only = [n for n in pt_state if n not in state]
    assert sorted(missing) == sorted(pt_only)
    prepare(pt)
    assert pt.cls.predictions.decoder.weight is pt.bert.embeddings.word_embeddings.weight
    initial_pt = params_snapshot(pt)
    groups, pt_table = pretrain_groups(pt, bert_weight_name)
    print("train_concap.py LR rule key[12:] (for a few names):")
    for n in ["bert.embeddings.word_embeddings.weight",
              "bert.encoder.layer.0.attention.self.query.weight",
              "cls.predictions.bias"]:
        print("   %-50s -> %-42r in json: %s" % (n, n[12:], n[12:] in bert_weight_name))
    selected = [n for n, (lr, _) in pt_table.items() if lr != PRETRAIN_LR]
    print("   names given lr*0.1:", selected)
    opt = AdamW(groups, lr=PRETRAIN_LR, betas=(0.9, 0.98), eps=1e-8)  # correct_bias True
    b = dict(batches["pretrain"])
    outs = pt(b["input_ids"], b["image_feat"].double(), b["image_loc"].double(),
              b["segment_ids"], b["input_mask"], b["image_mask"], b["lm_label_ids"],
              b["image_label"], b["image_target"].double(), b["is_next"])
    masked_loss_t, masked_loss_v, next_sentence_loss = outs
    img_weight = 1.0
    loss = masked_loss_t + masked_loss_v * img_weight + next_sentence_loss
    loss.backward()
    opt.step()
    grads, deltas = collect(pt, initial_pt)
    tensors = [("input/" + n, t) for n, t in batches["pretrain"]]
    tensors.append(("loss", loss.detach().reshape(1).double()))
    tensors.append(("loss_masked_lm", masked_loss_t.detach().reshape(1).double()))
    tensors.append(("loss_masked_img", masked_loss_v.detach().reshape(1).double()))
    tensors.append(("loss_alignment", next_sentence_loss.detach().reshape(1).double()))
    tensors += [("initial/" + n, pt_state[n].float()) for n in pt_only]
    meta = {
        "case": "pretrain", "task_id": "TASK0", "type": "BertForMultiModalPreTraining",
        "objective": "0", "visual_target": "0", "img_weight": "1",
        "loss": "masked_lm + img_weight * masked_img + alignment",
        "optimizer": "AdamW (pytorch_transformers 1.0.0)",
        "lr": repr(PRETRAIN_LR), "betas": "0.9,0.98", "eps": "1e-08", "correct_bias": "true",
        "weight_decay": repr(WEIGHT_DECAY), "no_decay": json.dumps(NO_DECAY),
        "lr_rule": "lr*0.1 if name[12:] in config/bert-base-uncased_weight_name.json else lr;"
                   " selects: " + json.dumps(selected),
        "lr_per_param": json.dumps({n: lr for n, (lr, _) in pt_table.items()}),
        "scheduler": "none (lr as given)", "compute_dtype": "float64",
        "mode": "eval (no dropout)", "task_specific_tokens": "false",
        "initial": "initial.safetensors for every name; initial/* for names not there",
    }
    write_safetensors(os.path.join(args.out, "pretrain.safetensors"),
                      tensors + grads + deltas, meta)
    summary["pretrain"] = dict(loss=float(loss), loss_masked_lm=float(masked_loss_t),
                               loss_masked_img=float(masked_loss_v),
                               loss_alignment=float(next_sentence_loss),
                               grads=len(grads), deltas=len(deltas), pretrain_only=pt_only)
    print("%-15s loss %.10f (lm %.6f img %.6f align %.6f)  params with grad %d  changed %d"
          % ("pretrain", float(loss), float(masked_loss_t), float(masked_loss_v),
             float(next_sentence_loss), len(grads), len(deltas)))

    # ---- config.json --------------------------------------------------------------------
    per_case = {}
    for name, (task_id, _) in CASES.items():
        per_case[name] = {
            "task_id": task_id, "task_token": int(task_id[4:]),
            "type": task_cfg[task_id]["type"], "process": task_cfg[task_id]["process"],
            "loss": task_cfg[task_id]["loss"],
            "inputs": {n: list(t.shape) for n, t in batches[name]},
        }
    per_case["vqa"]["note"] = "loss = BCE-with-logits mean * num_answers (12)"
    per_case["gqa"]["note"] = "loss = BCE-with-logits mean * num_answers (9)"
    per_case["retrieval_coco"]["note"] = (
        "inputs [B,4,...] are flattened to 4B sequences; vil_logit viewed [B,4]; "
        "cross-entropy with target index (released training data always gives 0; "
        "item 1 uses 2 here)")
    per_case["refcoco"]["note"] = ("loss = BCE-with-logits(vision_logit, target) mean * R; "
                                   "vision_logit has -10000 added on padded regions")
    per_case["visual7w"]["note"] = ("vision_logit[:,101:] gathered at multiple_choice_ids; "
                                    "loss = BCE mean * 4")
    per_case["nlvr2"]["note"] = ("features [B,2R] viewed [2B,R]; question repeated per "
                                 "image; pooled outputs of the 2 images concatenated")
    per_case["snli_ve"]["note"] = "B=3 (odd): the binary head is not evaluated"
    per_case["vqa_then_nlvr2"] = {
        "steps": ["vqa (TASK1)", "model.zero_grad() to zeros", "nlvr2 (TASK12)"],
        "note": "one optimiser for both steps; grads and deltas after step 2"}
    per_case["pretrain"] = {
        "model": "BertForMultiModalPreTraining", "task_specific_tokens": False,
        "inputs": {n: list(t.shape) for n, t in batches["pretrain"]},
        "note": "image_target/image_label cover regions 1..R-1 (the model drops region 0)"}
    out_cfg = {
        "model": dict(MODEL_CONFIG, **UNREAD_CONFIG),
        "unread_fields": sorted(list(UNREAD_CONFIG) + ["v_initializer_range"]),
        "num_vqa_answers": NUM_VQA_ANSWERS, "num_gqa_answers": NUM_GQA_ANSWERS,
        "vil_prediction_hidden": 2 * MODEL_CONFIG["bi_hidden_size"],
        "task_embeddings": 20,
        "tokens": {"pad": PAD, "unk": UNK, "cls": CLS, "sep": SEP, "mask": MASK},
        "seed": SEED,
        "multitask_optimizer": {"lr_vil": VIL_LR, "lr_base": BASE_LR,
                                "betas": [0.9, 0.999], "eps": 1e-6, "correct_bias": False,
                                "weight_decay": WEIGHT_DECAY, "no_decay": NO_DECAY,
                                "loss_scale": {t: loss_scale[t] for t in sorted(loss_scale)},
                                "scheduler": None},
        "pretrain_optimizer": {"lr": PRETRAIN_LR, "lr_times_0.1_for": selected,
                               "betas": [0.9, 0.98], "eps": 1e-8, "correct_bias": True,
                               "weight_decay": WEIGHT_DECAY, "no_decay": NO_DECAY,
                               "scheduler": None},
        "compute_dtype": "float64", "mode": "eval (no dropout)",
        "cases": per_case,
        "results": summary,
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(out_cfg, f, indent=1, sort_keys=False)
        f.write("\n")

    # ---- self-check: files read back ---------------------------------------------------
    for name in list(CASES) + ["vqa_then_nlvr2", "pretrain"]:
        data, meta = read_safetensors(os.path.join(args.out, name + ".safetensors"))
        assert abs(float(data["loss"][0]) - summary[name]["loss"]) == 0.0
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print("wrote %s (%d bytes)" % (args.out, total))


if __name__ == "__main__":
    main()
