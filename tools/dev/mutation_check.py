#!/usr/bin/env python3
"""Mutation check: do the tests fail when what they guard breaks? (issue 34; not run by CI)

Applies, one at a time, each deliberate bug of MUTATIONS below to the source tree, rebuilds only
the test executables it needs, runs the tests named for it and records whether they caught it
(at least one failed, or hung past the timeout) or let it survive. The tree is restored after
every mutation and on any exit (Ctrl-C and SIGTERM included); a dirty tree is refused, since
restoring means writing back the committed text. Every named test is first run on the unmutated
tree: one that fails there could not show a catch. An anchor (the exact text a mutation
replaces) that does not occur exactly once is reported as an error: the code moved and the
table needs updating, which says nothing about the tests.

  nice -n 10 python3 tools/dev/mutation_check.py [--build build] [--only NAME,...] [--tests T,...] [--list]

Prints a table and writes it as JSON Lines (--out, default <build>/mutation_check.jsonl).
Exit status: 0 when every mutation was caught, 1 when one survived, 2 on an error.
The table of the last run is in docs/TESTING.md.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A test is "unit:<gtest filter>" (build/bin/vlmt_tests), "mpi:<gtest filter>" (vlmt_mpi_tests
# under mpirun -n 2) or "ctest:<regex>" (integration scripts; the mutation names the targets
# they run).
UNIT_TARGET, MPI_TARGET = "vlmt_tests", "vlmt_mpi_tests"


@dataclass
class Mutation:
    name: str
    file: str
    find: str
    replace: str
    tests: list
    why: str
    targets: list = field(default_factory=list)  # extra build targets (ctest tests)


MUTATIONS = [
    Mutation("dsg_comparison_flipped", "src/train/dsg.cpp",
             "score > s.best * (1.0 + options_.improve)",
             "score < s.best * (1.0 + options_.improve)",
             ["unit:TrainDsg.*"],
             "DSG counts an improvement as a bad epoch: tasks stop while still improving"),
    Mutation("loss_scale_dropped", "src/train/trainer.cpp",
             "torch::Tensor scaled = (weight == 1.0 ? loss : loss * weight) * s.loss_scale;",
             "torch::Tensor scaled = (weight == 1.0 ? loss : loss * weight);",
             ["unit:Trainer.*"],
             "every task's loss enters backward unscaled (VQA/GQA lose their 2x)"),
    Mutation("grad_allreduce_skipped_on_rank1", "src/distributed/grad_sync.cpp",
             "    auto flat = flat_of(bucket);\n    comm_.all_reduce(flat, ReduceOp::kSum);\n",
             "    auto flat = flat_of(bucket);\n"
             "    if (comm_.rank() == 1) { auto ignored = flat.clone(); comm_.all_reduce(ignored, ReduceOp::kSum); return; }\n"
             "    comm_.all_reduce(flat, ReduceOp::kSum);\n",
             ["mpi:GradSync.*"],
             "rank 1 keeps its own gradient (it still joins the collective, so nothing hangs): the replicas drift apart"),
    Mutation("aborted_allreduce_reaches_grad", "src/distributed/grad_sync.cpp",
             "  comm_.wait_complete();\n", "",
             ["unit:GradSyncAbort.*:CommStreams.*"],
             "finish() hands out the buffers of an aborted NCCL all-reduce (partial sums) as .grad"),
    Mutation("comm_stream_not_joined", "src/distributed/grad_sync.cpp",
             "  streams_.join();", "",
             ["unit:CommStreams.*"],
             "the optimiser runs on the compute stream without waiting for the comm stream's all-reduces"),
    Mutation("wait_complete_ignores_abort", "src/distributed/collective_guard.cpp",
             "      if (pending_.empty()) check_async_locked();\n      throw_if_aborted_locked();\n",
             "      if (pending_.empty()) check_async_locked();\n",
             ["unit:CollectiveGuard.*"],
             "after the watchdog aborted NCCL, waiting for the collectives returns as if they had completed"),
    Mutation("phase_times_wait_every_lap", "src/train/phase_times.cpp",
             "  if (phase == kOptimizer || phase == kValidation) settle();", "  settle();",
             ["unit:TrainProgress.*"],
             "every phase of a step waits for the device (five synchronisations per step)"),
    Mutation("sampler_off_by_one", "src/data/sampler.cpp",
             "const int64_t slot = k * world_ + rank_;",
             "const int64_t slot = k * world_ + rank_ + 1;",
             ["unit:DistributedSampler.*"],
             "each rank's shard starts one item late: one item per epoch never trained, another twice"),
    Mutation("vqa_normalisation_disabled", "src/eval/vqa_accuracy.cpp",
             "h.normalized = !unanimous;",
             "h.normalized = false;",
             ["unit:EvalVqaAccuracy.*:EvalHumanAnswers.*"],
             "VQA accuracy compares raw strings: 'Two.' no longer matches 'two'"),
    Mutation("referring_iou_threshold_0_4", "src/data/feature_store.h",
             "constexpr float kTargetMinIoU = 0.5f;",
             "constexpr float kTargetMinIoU = 0.4f;",
             ["unit:TaskDataset.Referring*"],
             "RefCOCO training targets keep regions with IoU in [0.4, 0.5) as partly right"),
    Mutation("grounding_hit_iou_0_4", "src/tasks/kind_region_grounding.cpp",
             "return target_at(b.target, p).gt(0.5);",
             "return target_at(b.target, p).gt(0.4);",
             ["unit:TaskKinds.*"],
             "referring-expression accuracy counts a region with IoU 0.45 as a hit"),
    Mutation("checkpoint_file_not_fsynced", "src/ckpt/checkpoint.cpp",
             "    write_file(tmp_path, data);\n    sync_path(tmp_path, false);\n",
             "    write_file(tmp_path, data);\n",
             ["unit:CkptFsync.*"],
             "a crash after the rename can leave latest.h5 empty or partial: both checkpoints lost"),
    Mutation("checkpoint_dir_not_fsynced", "src/ckpt/checkpoint.cpp",
             "  rename_or_throw(tmp_path, final_path);\n  sync_path(dir, true);\n",
             "  rename_or_throw(tmp_path, final_path);\n",
             ["unit:CkptFsync.*"],
             "the renames may not survive a crash"),
    Mutation("task_token_ignored", "src/model/multitask_model.cpp",
             "case TaskTokenMode::kPerDataset: return task_id;",
             "case TaskTokenMode::kPerDataset: return 0;",
             ["unit:GoldenStep.*"],
             "every task gets the same task embedding: the model cannot tell VQA from GQA"),
    Mutation("lr_schedule_not_advanced", "src/train/trainer.cpp",
             "        lr_->advance();\n",
             "",
             ["unit:Trainer.*"],
             "the LR stays at warm-up step 0 (factor 0): nothing ever trains"),
    Mutation("answer_order_permuted", "src/data/annotations.cpp",
             'read_answer_vocab(const std::string& path) { return string_list(path, "answers"); }',
             'read_answer_vocab(const std::string& path) {\n'
             '  auto a = string_list(path, "answers");\n'
             '  if (a.size() > 1) std::swap(a.front(), a.back());\n'
             '  return a;\n}',
             ["unit:TaskDataset.Vqa*"],
             "labels index the wrong answers: evaluated and inferred answers, released heads all wrong"),
]


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], check=True, capture_output=True, text=True).stdout


def run_limited(cmd, timeout, env=None):
    """Runs cmd in its own process group; returns (rc or 'timeout', output, seconds)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out, time.monotonic() - start
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return "timeout", out, time.monotonic() - start
    finally:
        if proc.poll() is None:  # interrupted: our own child group only
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_command(test, build):
    kind, _, arg = test.partition(":")
    binary = os.path.join(build, "bin")
    if kind == "unit":
        return [os.path.join(binary, UNIT_TARGET), f"--gtest_filter={arg}"]
    if kind == "mpi":
        return ["mpirun", "-n", "2", "--oversubscribe", os.path.join(binary, MPI_TARGET), f"--gtest_filter={arg}"]
    if kind == "ctest":
        return ["ctest", "--test-dir", build, "-R", arg, "--no-tests=error", "--output-on-failure"]
    raise ValueError(f"unknown test kind in '{test}'")


def targets_of(mutation):
    kinds = {t.partition(":")[0] for t in mutation.tests}
    return sorted({UNIT_TARGET for k in kinds if k == "unit"} | {MPI_TARGET for k in kinds if k == "mpi"}
                  | set(mutation.targets))


def run_test(test, build, timeout):
    """Returns (passed, names of what failed, seconds). A skipped test is an error, not a pass."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
    rc, out, seconds = run_limited(test_command(test, build), timeout, env)
    out = re.sub(r"\x1b\[[0-9;]*m", "", out)  # gtest colours its output under mpirun
    if rc == "timeout":
        return False, [f"{test} (timeout after {timeout} s)"], seconds
    if test.startswith("ctest:"):
        failed = re.findall(r"^\s*\d+ - (\S+) \((?!Skipped)[^)]*\)", out, re.M)
        if re.search(r"\*\*\*Skipped|\(Skipped\)", out):
            raise RuntimeError(f"{test}: skipped (cannot run here), so it can show nothing:\n{out[-2000:]}")
    else:
        if re.search(r"^\[  SKIPPED \]", out, re.M):
            raise RuntimeError(f"{test}: a test was skipped, so it can show nothing:\n{out[-2000:]}")
        if re.search(r"^\[==========\] 0 tests", out, re.M) or "[==========]" not in out and rc == 0:
            raise RuntimeError(f"{test}: the filter matches no test")
        # Test names only (the summary's "[  FAILED  ] 3 tests" is not one); no line anchor, as
        # two ranks' output may interleave.
        failed = sorted(set(re.findall(r"\[  FAILED  \] ([A-Za-z_]\w*\.[\w/.]+)", out)))
    if rc != 0 and not failed:
        failed = [f"{test} (exit {rc}: {out.strip().splitlines()[-1] if out.strip() else 'no output'})"]
    return rc == 0, failed, seconds


def build_targets(build, targets):
    rc, out, seconds = run_limited(["cmake", "--build", build, "--target", *targets], 3600)
    return rc == 0, out, seconds


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(os.path.join(ROOT, path), "w", encoding="utf-8") as f:
        f.write(text)


def restore(originals):
    """Writes the committed text back; a signal arriving meanwhile waits until it is done."""
    signals = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        for path in list(originals):
            write(path, originals[path])
            del originals[path]
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)


def check_one(m, build, timeout, originals):
    row = {"name": m.name, "file": m.file, "why": m.why, "tests": m.tests}
    text = read(m.file)
    count = text.count(m.find)
    if count != 1:
        row.update(status="error", detail=f"anchor found {count} times (the code moved; update the table)")
        return row
    originals[m.file] = text
    start = time.monotonic()
    try:
        write(m.file, text.replace(m.find, m.replace))
        built, out, _ = build_targets(build, targets_of(m))
        if not built:
            row.update(status="error", detail="the mutant does not compile:\n" + out[-1500:])
            return row
        failed = []
        for test in m.tests:
            passed, names, _ = run_test(test, build, timeout)
            failed += names
        row.update(status="caught" if failed else "survived", failed=failed)
    finally:
        restore(originals)
        row["seconds"] = round(time.monotonic() - start, 1)
    return row


def print_table(rows):
    print(f"\n{'mutation':34} {'status':9} {'s':>6}  caught by")
    for r in rows:
        caught = ", ".join(r.get("failed", [])) or (r.get("detail") or "-").splitlines()[0]
        print(f"{r['name']:34} {r['status']:9} {r.get('seconds', 0):6.0f}  {caught}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build", help="CMake build directory (configured)")
    parser.add_argument("--only", default="", help="comma-separated mutation names")
    parser.add_argument("--list", action="store_true", help="print the mutations and exit")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per test command")
    parser.add_argument("--tests", default="",
                        help="run these tests (comma-separated, as in the table) instead of the table's; "
                             "e.g. to show that a mutation survives without the test written for it")
    parser.add_argument("--out", default="", help="JSON Lines output (default <build>/mutation_check.jsonl)")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only.split(",")]
    if args.tests:
        chosen = [Mutation(m.name, m.file, m.find, m.replace, args.tests.split(","), m.why, m.targets) for m in chosen]
    if args.list or not chosen:
        for m in MUTATIONS:
            print(f"{m.name:34} {m.file:38} {' '.join(m.tests)}\n{'':34} {m.why}")
        return 0 if chosen else 2
    build = os.path.abspath(os.path.join(ROOT, args.build))
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        print(f"mutation_check: {build} is not a configured build directory", file=sys.stderr)
        return 2
    if git("status", "--porcelain", "--untracked-files=no").strip():
        print("mutation_check: the tree has uncommitted changes; commit or stash them first "
              "(the check restores files to their committed text)", file=sys.stderr)
        return 2
    commit = git("rev-parse", "--short", "HEAD").strip()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    originals = {}  # file -> committed text, while it is mutated
    rows = []
    try:
        # The unmutated tree: every named test must pass, or it could show nothing.
        all_targets = sorted({t for m in chosen for t in targets_of(m)})
        built, out, _ = build_targets(build, all_targets)
        if not built:
            print(out[-3000:] + "\nmutation_check: the unmutated tree does not build", file=sys.stderr)
            return 2
        for test in sorted({t for m in chosen for t in m.tests}):
            passed, failed, seconds = run_test(test, build, args.timeout)
            print(f"baseline {test}: {'pass' if passed else 'FAIL ' + ', '.join(failed)} ({seconds:.0f} s)", flush=True)
            if not passed:
                print("mutation_check: a named test fails on the unmutated tree", file=sys.stderr)
                return 2
        for m in chosen:
            row = check_one(m, build, args.timeout, originals)
            row["commit"] = commit
            rows.append(row)
            print(f"{m.name}: {row['status']} ({row['seconds']} s) {', '.join(row.get('failed', []))}"
                  f"{row.get('detail', '')}", flush=True)
    except Interrupted as e:
        print(f"\nmutation_check: interrupted ({e}); the tree is restored", file=sys.stderr)
        return 130
    finally:
        restore(originals)
        if git("status", "--porcelain", "--untracked-files=no").strip():
            print("mutation_check: the tree differs from its commit after restoring", file=sys.stderr)
    # Leave the build matching the tree again (ccache makes this quick).
    build_targets(build, sorted({t for m in chosen for t in targets_of(m)}))
    out_path = args.out or os.path.join(build, "mutation_check.jsonl")
    with open(out_path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print_table(rows)
    print(f"\n{len(rows)} mutations at {commit}: "
          f"{sum(r['status'] == 'caught' for r in rows)} caught, {sum(r['status'] == 'survived' for r in rows)} "
          f"survived, {sum(r['status'] == 'error' for r in rows)} errors; {out_path}")
    if any(r["status"] == "error" for r in rows):
        return 2
    return 1 if any(r["status"] == "survived" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
