#!/usr/bin/env python3
"""One VQA training step of vlmt against the authors' released Python code, same shapes.

Not run by CI.  Interleaves, for each round: one `bench_step` process (vlmt; it warms up one
step and times --steps) and then the same number of timed steps of the released
`VILBertForVLTasks` (facebookresearch/vilbert-multi-task, imported from a checkout, nothing
copied), so that both sides see the same machine load.  Prints every round, the median
samples/s of each side, their ratio vlmt/released, and a Markdown table row.

    /usr/bin/python3 tools/dev/bench_compare.py --preset tiny --threads 2 --rounds 3 --steps 3
    /usr/bin/python3 tools/dev/bench_compare.py --preset tiny --vlmt-ranks 2 --threads 1
    /usr/bin/python3 tools/dev/bench_compare.py --preset base --batch 8 --json bench.jsonl

Needs Python 3.11 (tomllib), Debian's python3-torch (1.13), numpy and PyYAML, a released
checkout (default /tmp/rel; make one with
`mkdir -p /tmp/rel && git --git-dir=<mirror>/repo archive HEAD | tar -x -C /tmp/rel`)
and a built build/bin/bench_step.  See docs/PERFORMANCE.md.

The released step is what train_tasks.py does per iteration for TASK1 (VQA):
task_utils.ForwardModelsTrain (BCE-with-logits mean x num answers; note the released forward
also evaluates every other head, including the masked-LM decoder over the vocabulary),
loss.backward(), the released AdamW (pytorch-transformers 1.0.0, one group per parameter,
correct_bias False; re-implemented in tools/dev/golden/make_golden_steps.py), model.zero_grad().
The model is float32 in train() mode, sized from the same configs/model/<preset>.toml.

Layouts.  --vlmt-ranks R runs `mpirun -n R bench_step --batch B`: bench_step splits the global
batch B over the ranks, its step includes the gradient all-reduce, and its RESULT line's
samples/s counts all ranks, so it is taken as printed.  The released side runs one process with
--released-threads (default R x threads: the same cores).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools", "dev", "golden"))

# configs/model/*.toml key -> released BertConfig field (vilbert/vilbert.py)
TOML_TO_RELEASED = {
    "vocab_size": "vocab_size", "hidden_size": "hidden_size",
    "num_hidden_layers": "num_hidden_layers", "num_attention_heads": "num_attention_heads",
    "intermediate_size": "intermediate_size",
    "max_position_embeddings": "max_position_embeddings", "type_vocab_size": "type_vocab_size",
    "v_feature_size": "v_feature_size", "v_target_size": "v_target_size",
    "v_hidden_size": "v_hidden_size", "v_num_hidden_layers": "v_num_hidden_layers",
    "v_num_attention_heads": "v_num_attention_heads", "v_intermediate_size": "v_intermediate_size",
    "bi_hidden_size": "bi_hidden_size", "bi_num_attention_heads": "bi_num_attention_heads",
    "v_biattention_id": "v_biattention_id", "t_biattention_id": "t_biattention_id",
    "hidden_dropout": "hidden_dropout_prob", "attention_dropout": "attention_probs_dropout_prob",
    "v_hidden_dropout": "v_hidden_dropout_prob",
    "v_attention_dropout": "v_attention_probs_dropout_prob",
    "initializer_range": "initializer_range",
}
# keys the released model has no field for; handled below or checked to match its constants
OTHER_KEYS = {"bi_intermediate_size", "layer_norm_eps", "task_token", "num_vqa_answers",
              "num_gqa_answers"}


def fail(msg):
    sys.exit("bench_compare: " + msg)


def preset_file(preset):
    # the rule of vlmt's preset_path(): a path if it has '/' or ends in .toml, else a name
    if "/" in preset or preset.endswith(".toml"):
        return preset
    return os.path.join(REPO, "configs", "model", preset + ".toml")


def read_preset(path):
    import tomllib

    if not os.path.isfile(path):
        fail("model preset %s not found" % path)
    with open(path, "rb") as f:
        t = tomllib.load(f)
    t = t.get("model", t)
    unknown = set(t) - set(TOML_TO_RELEASED) - OTHER_KEYS - {"preset"}
    if unknown:  # a new size field would otherwise silently differ between the two sides
        fail("%s: no released counterpart known for %s" % (path, sorted(unknown)))
    if abs(t.get("layer_norm_eps", 1e-12) - 1e-12) > 0:
        fail("%s: layer_norm_eps must be 1e-12 (hard-coded in the released model)" % path)
    return t


# ------------------------------------------------------------------------------------------
# vlmt: one bench_step process per round
# ------------------------------------------------------------------------------------------
def run_vlmt(args, exe):
    cmd = [exe, "--preset", args.preset, "--task", "vqa", "--batch", str(args.batch),
           "--text-len", str(args.text_len), "--regions", str(args.regions),
           "--steps", str(args.steps), "--threads", str(args.threads)]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    if args.vlmt_ranks > 1:
        # --bind-to none: Open MPI would otherwise pin each rank to one core
        cmd = ["mpirun", "-n", str(args.vlmt_ranks), "--oversubscribe", "--bind-to", "none",
               "-x", "OMP_NUM_THREADS"] + cmd
        if os.geteuid() == 0:
            env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    p = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        fail("%s exited %d:\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))

    def grab(pattern):  # the printf formats of tools/dev/bench_step.cpp
        m = re.search(pattern, p.stdout, re.M)
        if not m:
            fail("cannot find /%s/ in bench_step output:\n%s" % (pattern, p.stdout))
        return m.group(1)

    # "RESULT ... ranks=R ... samples_per_s=X step_s=Y": X counts all ranks, gradient sync included
    result = dict(kv.split("=", 1) for kv in grab(r"^RESULT (.*)$").split())
    if int(result["ranks"]) != args.vlmt_ranks or int(result["batch"]) != args.batch:
        fail("bench_step ran %s ranks / batch %s, not %d / %d" % (
            result["ranks"], result["batch"], args.vlmt_ranks, args.batch))
    return dict(step_s=float(result["step_s"]), samples_per_s=float(result["samples_per_s"]),
                parameters=int(grab(r"^\s*parameters\s+([0-9]+)")),
                dropout=result.get("dropout"), command=" ".join(cmd))


# ------------------------------------------------------------------------------------------
# the released code
# ------------------------------------------------------------------------------------------
class Released(object):
    def __init__(self, args, preset):
        import torch
        import yaml
        import make_golden_steps as G  # its import stubs, AdamW and parameter groups

        self.torch, self.G = torch, G
        V, self.TU = G.import_released(args.released)
        torch.Tensor.cuda = lambda self, *a, **k: self  # ForwardModelsTrain calls .cuda()
        with open(os.path.join(args.released, "vilbert_tasks.yml")) as f:
            self.task_cfg = yaml.safe_load(f)
        self.task_losses = {"TASK1": self.TU.LossMap[self.task_cfg["TASK1"]["loss"]]}

        kw = dict(G.MODEL_CONFIG)  # the train_tasks.py settings (gelu, fusion mul, ...)
        for key, field in TOML_TO_RELEASED.items():
            kw[field] = preset[key]
        kw["task_specific_tokens"] = preset.get("task_token", "per_dataset") != "none"
        kw["v_initializer_range"] = preset["initializer_range"]  # not read by the model
        torch.manual_seed(0)
        config = V.BertConfig(kw.pop("vocab_size"), **kw)
        model = V.VILBertForVLTasks(config, num_labels=preset["num_vqa_answers"],
                                    dropout_prob=0.1, default_gpu=True)
        bi = config.bi_hidden_size
        # the released heads are hard-coded to 3129 / 1533 answers; take the preset's counts
        for name, n in (("vil_prediction", preset["num_vqa_answers"]),
                        ("vil_prediction_gqa", preset["num_gqa_answers"])):
            if getattr(model, name).logit_fc[3].out_features != n:
                setattr(model, name, V.SimpleClassifier(bi, bi * 2, n, 0.5))
                getattr(model, name).apply(model.init_weights)
        model.train()
        self.model = model
        groups, _ = G.multitask_groups(model)
        self.opt = G.AdamW(groups, lr=G.BASE_LR, correct_bias=False)  # train_tasks.py:426
        # tied decoder/embedding counted once, as vlmt's parameter_count()
        self.parameters = sum(p.numel() for p in model.parameters())
        self.config, self.answers, self.task_count = config, preset["num_vqa_answers"], {"TASK1": 0}

    def batch(self, B, L, R):
        """As vlmt's tasks/random_batch.cpp builds a VQA batch, in the released tuple order."""
        torch = self.torch
        q = torch.randint(5, self.config.vocab_size, (B, L))
        q[:, 0] = 2
        m = torch.ones(B, L, dtype=torch.int64)
        m[:, L - 2:] = 0
        f = torch.randn(B, R, self.config.v_feature_size)
        sp = torch.rand(B, R, 5)
        im = torch.ones(B, R, dtype=torch.int64)
        im[:, R - 1] = 0
        t = torch.zeros(B, self.answers)
        i = torch.arange(B)
        t[i, i % self.answers] = 1.0
        t[i, (i + 1) % self.answers] = 0.3
        return (f, sp, im, q, t, m, torch.zeros(B, L, dtype=torch.int64),
                torch.zeros(B, R, L), i)

    def step(self, batch):
        loss, _ = self.TU.ForwardModelsTrain(
            None, self.task_cfg, "cpu", "TASK1", self.task_count, {"TASK1": None},
            {"TASK1": self.G._Loader(batch)}, self.model, self.task_losses)
        loss.backward()
        self.opt.step()
        self.model.zero_grad()  # train_tasks.py:551

    def measure(self, args, threads):
        self.torch.set_num_threads(threads)
        b = self.batch(args.batch, args.text_len, args.regions)
        self.step(b)  # warm-up, as bench_step
        t0 = time.perf_counter()
        for _ in range(args.steps):
            self.step(b)
        per_step = (time.perf_counter() - t0) / args.steps
        return dict(step_s=per_step, samples_per_s=args.batch / per_step)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="tiny", help="tiny, base or a .toml file")
    ap.add_argument("--batch", type=int, help="global batch (default 128 tiny, 8 otherwise)")
    ap.add_argument("--text-len", type=int, default=23, help="VQA max_seq_length")
    ap.add_argument("--regions", type=int, default=101, help="VQA max_region_num")
    ap.add_argument("--threads", type=int, default=1, help="threads per vlmt rank")
    ap.add_argument("--vlmt-ranks", type=int, default=1, help="mpirun -n for vlmt")
    ap.add_argument("--released-threads", type=int,
                    help="threads of the released process (default ranks x threads)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3, help="timed steps per round and side")
    ap.add_argument("--released", default="/tmp/rel", help="released checkout")
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "bin"))
    ap.add_argument("--json", help="append every measurement to this JSON Lines file")
    args = ap.parse_args()
    if args.batch is None:
        args.batch = 128 if args.preset == "tiny" else 8
    rel_threads = args.released_threads or args.vlmt_ranks * args.threads
    if args.batch % args.vlmt_ranks:
        fail("--batch %d is not divisible by --vlmt-ranks %d" % (args.batch, args.vlmt_ranks))

    # everything that can be missing, before any measurement
    try:
        for module in ("torch", "numpy", "yaml"):
            __import__(module)
    except ImportError as e:
        fail("%s (needs PyTorch 1.x, numpy and PyYAML: apt-get install python3-torch "
             "python3-yaml; run with /usr/bin/python3)" % e)
    if not os.path.isfile(os.path.join(args.released, "vilbert", "vilbert.py")):
        fail("--released %s: no released checkout there (vilbert/vilbert.py missing)"
             % args.released)
    exe = os.path.join(args.bin, "bench_step")
    if not os.access(exe, os.X_OK):
        fail("%s not found or not executable (build vlmt first)" % exe)
    if args.vlmt_ranks > 1 and subprocess.run(["which", "mpirun"],
                                              capture_output=True).returncode:
        fail("--vlmt-ranks %d needs mpirun on PATH" % args.vlmt_ranks)
    preset = read_preset(preset_file(args.preset))

    rel = Released(args, preset)
    layout = "vlmt %d rank(s) x %d thread(s), released 1 process x %d thread(s)" % (
        args.vlmt_ranks, args.threads, rel_threads)
    common = dict(preset=args.preset, batch=args.batch, text_len=args.text_len,
                  regions=args.regions, steps=args.steps, threads=args.threads,
                  vlmt_ranks=args.vlmt_ranks, released_threads=rel_threads,
                  time=time.strftime("%Y-%m-%dT%H:%M:%S"), load=os.getloadavg()[0])
    out = open(args.json, "a") if args.json else None
    print("bench_compare: preset %s, VQA batch %d, L=%d, R=%d, %d timed steps per round; %s"
          % (args.preset, args.batch, args.text_len, args.regions, args.steps, layout))
    print("released parameters %d (vlmt's are printed by bench_step below)" % rel.parameters)
    results = {"vlmt": [], "released": []}
    for r in range(1, args.rounds + 1):
        for side in ("vlmt", "released"):
            if side == "vlmt":
                m = run_vlmt(args, exe)
            else:
                m = rel.measure(args, rel_threads)
            m.update(common, side=side, round=r, load=os.getloadavg()[0])
            results[side].append(m["samples_per_s"])
            if side == "vlmt" and m["parameters"] != rel.parameters:  # same sizes expected
                print("warning: vlmt has %d parameters, the released model %d"
                      % (m["parameters"], rel.parameters))
            extra = " (parameters %d)" % m["parameters"] if side == "vlmt" else ""
            print("round %d  %-8s %.4f s/step  %8.2f samples/s%s"
                  % (r, side, m["step_s"], m["samples_per_s"], extra), flush=True)
            if out:
                out.write(json.dumps(m) + "\n")
                out.flush()
    v, p = statistics.median(results["vlmt"]), statistics.median(results["released"])
    print("median   vlmt %.2f samples/s, released %.2f samples/s, ratio vlmt/released %.2f"
          % (v, p, v / p))
    if out:
        out.write(json.dumps(dict(common, side="summary", vlmt_samples_per_s=v,
                                  released_samples_per_s=p, ratio=v / p)) + "\n")
        out.close()
    print("| preset | batch | layout | vlmt samples/s | released samples/s | vlmt/released |")
    print("|---|---|---|---|---|---|")
    print("| %s | %d | %s | %.2f | %.2f | %.2f |" % (args.preset, args.batch, layout, v, p, v / p))


if __name__ == "__main__":
    main()
