#!/usr/bin/env python3
"""Compares the validation learning curves of runs (their metrics.jsonl "val" records).

    tools/learning_curves.py --target 0.5 scratch=RUN_DIR pretrained=RUN_DIR [--task vqa]
        [--json OUT.jsonl]

Prints, for each labelled run, the validation score at every validation (one column per run,
rows by iteration) and the first iteration whose score reaches --target ("never" when none
does), the speed-up (iterations the first run needs divided by those of each other run) and
the mean score over all validations (the area under the curve per validation: a summary that
one noisy point cannot move much). --rows caps the printed rows (evenly spaced; the last is
always printed). --json appends one JSON line per run: {"label", "run_dir", "task", "target",
"reached_at", "final", "best", "mean", "curve": [[iter, score], ...]}. Only the standard
library; no plotting.
"""
import argparse
import json
import os
import sys

# The metrics.jsonl names this tool reads. Their owner is src/eval/metrics_schema.h (the C++
# constant in each comment); the unit test EvalMetricsSchema.LearningCurvesReadsTheseNames checks
# that these values are its values and that the code below spells no field name of its own.
KIND = "kind"    # metrics_field::kKind
VAL = "val"      # metrics_kind::kVal
ITER = "iter"    # metrics_field::kIter
TASK = "task"    # metrics_field::kTask
SCORE = "score"  # metrics_field::kScore


def read_curve(run_dir, task):
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        sys.exit(f"learning_curves: {path} does not exist")
    curve = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"learning_curves: {path} line {number}: {e}")
            if record.get(KIND) != VAL or (task and record.get(TASK) != task):
                continue
            if isinstance(record.get(SCORE), (int, float)):
                curve[int(record[ITER])] = float(record[SCORE])  # a resumed run repeats: last wins
    if not curve:
        sys.exit(f"learning_curves: {path} has no validation records" + (f" of task {task}" if task else ""))
    return sorted(curve.items())


def reached_at(curve, target):
    return next((it for it, score in curve if score >= target), None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="LABEL=RUN_DIR")
    parser.add_argument("--target", type=float, required=True, help="validation score to reach (0..1)")
    parser.add_argument("--task", default="", help="task key (default: every val record)")
    parser.add_argument("--json", default="", help="append one summary line per run to this file")
    parser.add_argument("--rows", type=int, default=30, help="most rows of the printed table (default 30)")
    args = parser.parse_args()
    runs = []
    for spec in args.runs:
        label, sep, run_dir = spec.partition("=")
        if not sep or not label or not run_dir:
            sys.exit(f"learning_curves: expected LABEL=RUN_DIR, got '{spec}'")
        runs.append((label, run_dir, read_curve(run_dir, args.task)))

    title = args.task or "validation"
    print(f"{title}: validation score per iteration (target {args.target:.2f})")
    widths = [max(12, len(label) + 2) for label, _, _ in runs]  # a long label keeps a space before it
    print("iter".rjust(6) + "".join(label.rjust(w) for (label, _, _), w in zip(runs, widths)))
    iters = sorted({it for _, _, curve in runs for it, _ in curve})
    stride = max(1, -(-len(iters) // max(1, args.rows)))
    for row, it in enumerate(iters):
        if row % stride and row != len(iters) - 1:
            continue
        cells = []
        for (_, _, curve), width in zip(runs, widths):
            score = dict(curve).get(it)
            cells.append(("-" if score is None else f"{score:.4f}").rjust(width))
        print(str(it).rjust(6) + "".join(cells))
    first = None
    for i, (label, run_dir, curve) in enumerate(runs):
        at = reached_at(curve, args.target)
        best = max(score for _, score in curve)
        mean = sum(score for _, score in curve) / len(curve)
        line = f"{title} {label}: reaches {args.target:.2f} at " + (f"iteration {at}" if at else "never")
        line += f"; final {curve[-1][1]:.4f}, best {best:.4f}, mean {mean:.4f}"
        if i == 0:
            first = at
        elif first and at:
            line += f"; speed-up vs {runs[0][0]}: {first / at:.2f}x"
        elif at and not first:
            line += f"; {runs[0][0]} never reaches it"
        print(line)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps({"label": label, "run_dir": run_dir, "task": args.task, "target": args.target,
                                    "reached_at": at, "final": curve[-1][1], "best": best, "mean": mean,
                                    "curve": curve}) + "\n")


if __name__ == "__main__":
    main()
