#!/usr/bin/env python3
"""Converts the released 12-in-1 data package (the vilbert-multi-task `datasets/` directory, laid
out as vilbert_tasks.yml and the released dataset classes read it) into a vlmt data root's
canonical annotations: <out>/annotations/<task>/<split>.jsonl (+ answers.json for vqa, vgqa,
gqa, train_hard_pool.jsonl for retrieval).

  released.py --data-dir DATASETS --out ROOT [--tasks vqa,gqa,...] [--splits train,val,...]
              [--train-set trainval|train] [--force]

Every task whose directory is present is converted (a missing one is reported and skipped,
unless --tasks names it: then exit 3). Answer vocabularies are the released label2ans lists
(index = released head row) and the labels/scores are the released cache/*_target.pkl soft
targets. Splits as released: VQA minval = the last 3000 val questions by question id, train =
train + the rest of val (the released 'trainval'); GQA minval = the last 3000 of
trainval_target.pkl; VG QA val = the last 5000 of its trainval_target.pkl. --splits takes
vlmt split names (minval, valid, dev, testA, ...) or roles (train, val, test, test-dev).

A task/split whose outputs exist and whose input files have the sizes and mtimes recorded at
its last conversion (annotations/<task>/.released_manifest.json) is skipped; --force redoes it.
Bad input exits with code 3 naming the file and the id, key or line; pickles are read by the
restricted unpickler (safe_pickle). Files read per task: docs/DATA.md "Starting from the
released data".
"""
import argparse
import json
import os
import sys

import answer_vocab
from common import (ConvertError, EXIT_USAGE, annotation_path, answers_path, file_stat,
                    run_main, write_json, write_jsonl)
import released_tasks as rt

MANIFEST = ".released_manifest.json"
MANIFEST_VERSION = 1


def parse_args(table):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="tasks: " + ", ".join(t.key for t in table))
    p.add_argument("--data-dir", required=True, help="the released datasets/ directory")
    p.add_argument("--out", required=True, help="vlmt data root")
    p.add_argument("--tasks", help="comma-separated task keys (default: every task present)")
    p.add_argument("--splits", help="comma-separated split names or roles (train, val, test, "
                   "test-dev); default all")
    p.add_argument("--train-set", choices=("trainval", "train"), default="trainval",
                   help="VQA/GQA training set: the released 'trainval' (train + val without "
                   "minval, what vilbert_tasks.yml trains on; default) or 'train' only")
    p.add_argument("--force", action="store_true", help="reconvert even unchanged splits")
    return p.parse_args()


def csv(value):
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def manifest_path(out, task):
    return os.path.join(out, "annotations", task, MANIFEST)


def read_manifest(out, task):
    path = manifest_path(out, task)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION:
            return data
    except (OSError, ValueError):
        pass  # absent or unreadable: everything is converted again
    return {"version": MANIFEST_VERSION, "splits": {}}


def write_manifest(out, task, manifest):
    write_json(manifest_path(out, task), manifest, sort_keys=True)


def split_outputs(out, task, split):
    outputs = [annotation_path(out, task.key, split.name)]
    if task.vocab:
        outputs.append(answers_path(out, task.key))
    if task.key.startswith("retrieval_") and split.role == "train":
        outputs.append(os.path.join(out, "annotations", task.key, f"{split.name}_hard_pool.jsonl"))
    return outputs


def main():
    table = rt.tasks("trainval")
    args = parse_args(table)
    table = rt.tasks(args.train_set)
    by_key = {t.key: t for t in table}
    wanted = csv(args.tasks)
    if wanted:
        unknown = [k for k in wanted if k not in by_key]
        if unknown:
            print(f"error: unknown task(s) {', '.join(unknown)}; tasks: "
                  f"{', '.join(by_key)}", file=sys.stderr)
            sys.exit(EXIT_USAGE)
    split_filter = csv(args.splits)
    if not os.path.isdir(args.data_dir):
        raise ConvertError(f"{args.data_dir}: not a directory (the released datasets/ folder)")
    ctx = rt.Context(args.data_dir, args.out, args.train_set)
    settings = {"train_set": args.train_set}

    # Which tasks are here: a task is present when its directory is.
    selected, missing_tasks = [], []
    for task in (by_key[k] for k in wanted) if wanted else table:
        directory = ctx.path(task.directory)
        if os.path.isdir(directory):
            selected.append(task)
        elif wanted:
            raise ConvertError(f"task {task.key}: missing {directory} (named by --tasks)")
        else:
            missing_tasks.append((task.key, directory))
            print(f"task {task.key}: missing {directory}; skipped")

    converted, unchanged, missing_splits = [], [], []
    for task in selected:
        ctx.task = task
        ctx.cache = {}  # parsed files are shared by the splits of one task only
        splits = [s for s in task.splits
                  if split_filter is None or s.name in split_filter or s.role in split_filter]
        if not splits:
            continue
        manifest = read_manifest(args.out, task.key)
        vocab_inputs = list(task.vocab or ())
        check_inputs = []
        if task.vocab_check and os.path.exists(ctx.path(task.vocab_check[1])):
            check_inputs = list(task.vocab_check[1:])
        vocab_written = False
        for split in splits:
            ctx.split = split
            needed = vocab_inputs + split.inputs
            absent = [ctx.path(r) for r in needed if not os.path.exists(ctx.path(r))]
            if absent:
                if wanted and split_filter and split.name in split_filter:
                    raise ConvertError(f"{task.key}/{split.name}: missing {', '.join(absent)}")
                missing_splits.append((f"{task.key}/{split.name}", absent))
                print(f"{task.key}/{split.name}: missing {', '.join(absent)}; skipped")
                continue
            inputs = needed + check_inputs + [r for r in split.optional
                                              if os.path.exists(ctx.path(r))]
            stats = {ctx.path(r): file_stat(ctx.path(r)) for r in inputs}
            outputs = split_outputs(args.out, task, split)
            entry = {"inputs": stats, "settings": settings,
                     "outputs": [os.path.basename(o) for o in outputs]}
            if not args.force and manifest["splits"].get(split.name) == entry and \
                    all(os.path.exists(o) for o in outputs):
                print(f"{task.key}/{split.name}: inputs unchanged since the last conversion; "
                      "skipped")
                unchanged.append(f"{task.key}/{split.name}")
                continue
            if task.vocab and not vocab_written:
                answers = rt.read_released_vocab(ctx, *task.vocab)
                if check_inputs:
                    other = rt.read_released_vocab(ctx, *task.vocab_check[1:])
                    check_same_vocab(ctx, task, answers, other)
                ctx.vocab[task.key] = answers
                answer_vocab.write_vocab(args.out, task.key, answers)
                vocab_written = True
            ctx.counts = {}
            path = annotation_path(args.out, task.key, split.name)
            n = write_jsonl(path, split.build(ctx))
            notes = "".join(f"; {c} {note}" for note, c in sorted(ctx.counts.items()))
            print(f"{path}: {n} records{notes}")
            converted.append(f"{task.key}/{split.name} ({n})")
            manifest["splits"][split.name] = entry
            write_manifest(args.out, task.key, manifest)

    print("summary:")
    print(f"  converted: {', '.join(converted) or 'none'}")
    print(f"  unchanged (skipped): {', '.join(unchanged) or 'none'}")
    print("  missing tasks: " + (", ".join(f"{k} ({d})" for k, d in missing_tasks) or "none"))
    print("  missing splits: " + (", ".join(f"{s} ({', '.join(p)})" for s, p in missing_splits)
                                  or "none"))


def check_same_vocab(ctx, task, answers, other):
    """VG QA trains the same head as VQA (vil_prediction): both label lists must be one list."""
    mine, theirs = ctx.path(task.vocab[0]), ctx.path(task.vocab_check[1])
    for i, (a, b) in enumerate(zip(answers, other)):
        if a != b:
            raise ConvertError(f"{mine}: entry {i} is '{a}' but {theirs} entry {i} is '{b}'; "
                               f"{task.key} shares the {task.vocab_check[0]} head, so the two "
                               "lists must be identical")
    if len(answers) != len(other):
        raise ConvertError(f"{mine}: {len(answers)} answers but {theirs} has {len(other)}; "
                           f"{task.key} shares the {task.vocab_check[0]} head")


if __name__ == "__main__":
    run_main(main)
