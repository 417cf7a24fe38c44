#!/usr/bin/env python3
"""Independent reader of vlmt's TensorBoard event files (tests/integration/test_tensorboard.sh).

Shares no code with the C++ writer (src/core/event_file.cpp, src/train/tensorboard.cpp): the
TFRecord framing is checked with crcmod's CRC-32C, the Event protos are parsed by Google's
protobuf runtime from a schema declared here (the field numbers of tensorflow/core/util/event.proto
and framework/summary.proto), and the tags are derived from metrics.jsonl by the rules of
docs/TRAINING.md ("TensorBoard"), written again here.

  tb_reader.py RUN_DIR [--log-every N --last-step M] [--require TAG ...]

checks every event file of RUN_DIR: framing CRCs, a file_version first event, scalars only; no
(tag, step) twice across the files; the scalars equal (as float32, with the record's wall time)
those that metrics.jsonl's records give, a run_info record dropping the steps after the
iteration its run started from (a resumed run rewrites them); with --log-every, train/lr at
exactly every N-th step and the last; with --require, those tags present. Exit 0 when all hold.
"""
import argparse
import glob
import json
import os
import re
import struct
import sys

import crcmod.predefined
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_crc32c = crcmod.predefined.mkPredefinedCrcFun("crc-32c")


def masked_crc(data):
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def event_class():
    f = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(name="vlmt_test_event.proto", package="tbtest", syntax="proto3")
    summary = proto.message_type.add(name="Summary")
    value = summary.nested_type.add(name="Value")
    value.field.add(name="tag", number=1, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    value.field.add(name="simple_value", number=2, type=f.TYPE_FLOAT, label=f.LABEL_OPTIONAL, oneof_index=0)
    value.oneof_decl.add(name="value")
    summary.field.add(name="value", number=1, type=f.TYPE_MESSAGE, label=f.LABEL_REPEATED,
                      type_name=".tbtest.Summary.Value")
    event = proto.message_type.add(name="Event")
    event.field.add(name="wall_time", number=1, type=f.TYPE_DOUBLE, label=f.LABEL_OPTIONAL)
    event.field.add(name="step", number=2, type=f.TYPE_INT64, label=f.LABEL_OPTIONAL)
    event.field.add(name="file_version", number=3, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL, oneof_index=0)
    event.field.add(name="summary", number=5, type=f.TYPE_MESSAGE, label=f.LABEL_OPTIONAL, oneof_index=0,
                    type_name=".tbtest.Summary")
    event.oneof_decl.add(name="what")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    descriptor = pool.FindMessageTypeByName("tbtest.Event")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


Event = event_class()


def read_records(path, problems):
    """The data of every TFRecord of `path`; a framing problem is reported and ends the file."""
    data = open(path, "rb").read()
    pos, out = 0, []
    while pos < len(data):
        if len(data) - pos < 12:
            problems.append(f"{path}: torn record header at byte {pos}")
            break
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if length_crc != masked_crc(header):
            problems.append(f"{path}: length CRC mismatch at byte {pos}")
            break
        if len(data) - pos - 16 < length:
            problems.append(f"{path}: torn record at byte {pos}")
            break
        body = data[pos + 12:pos + 12 + length]
        (body_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        if body_crc != masked_crc(body):
            problems.append(f"{path}: data CRC mismatch at byte {pos}")
            break
        out.append(body)
        pos += 16 + length
    return out


def read_scalars(run_dir, problems):
    """{(tag, step): (value, wall_time)} over the run's event files, and the files."""
    files = sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*")))
    scalars = {}
    for path in files:
        if not re.fullmatch(r"events\.out\.tfevents\.\d+\.[^/]+", os.path.basename(path)):
            problems.append(f"{path}: not named events.out.tfevents.<time>.<host>")
        last_step = None
        for i, body in enumerate(read_records(path, problems)):
            event = Event()
            event.ParseFromString(body)
            event.DiscardUnknownFields()
            if event.SerializeToString() != body:
                problems.append(f"{path}: record {i} is not the plain encoding of an Event (unknown fields?)")
            kind = event.WhichOneof("what")
            if i == 0:
                if kind != "file_version" or event.file_version != "brain.Event:2":
                    problems.append(f"{path}: first event is not file_version brain.Event:2")
                continue
            if kind != "summary":
                problems.append(f"{path}: record {i} is a {kind} event, not a summary")
                continue
            if last_step is not None and event.step < last_step:
                problems.append(f"{path}: step {event.step} after step {last_step}")
            last_step = event.step
            for v in event.summary.value:
                if v.WhichOneof("value") != "simple_value":
                    problems.append(f"{path}: {v.tag} at step {event.step} is not a simple_value")
                key = (v.tag, event.step)
                if key in scalars:
                    problems.append(f"{path}: {v.tag} at step {event.step} written twice")
                scalars[key] = (v.simple_value, event.wall_time)
    return scalars, files


def tag_task(task):
    return re.sub(r"[^A-Za-z0-9_./-]", "_", task.replace("+", "plus"))


def expected_scalars(records):
    """{(tag, step): (value, wall_time)} that the metrics.jsonl records give."""
    out = {}
    for r in records:
        kind, step, time = r.get("kind"), r.get("iter", 0), r.get("time")
        if kind == "run_info":  # the run restarts here: later records replace the steps after it
            for key in [k for k in out if k[1] > step]:
                del out[key]
            continue
        task = tag_task(r.get("task", ""))

        def put(tag, value):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[(tag, step)] = (value, time)

        def put_all(prefix, values):
            for name, value in (values or {}).items():
                put(prefix + name, value)

        if kind == "train":
            put(f"train/{task}_loss", r.get("loss"))
            put(f"train/{task}_score", r.get("batch_score"))
            put_all(f"train/{task}_", r.get("losses"))
        elif kind == "val":
            put(f"val/{task}_loss", r.get("loss"))
            put(f"val/{task}_score", r.get("score"))
            put_all(f"val/{task}_", r.get("metrics"))
            put_all(f"val/{task}_", r.get("losses"))
        elif kind == "progress":
            put("train/lr", r.get("lr"))
            put("train/samples_per_s", r.get("samples_per_s"))
            put_all("time/", r.get("time_s"))
            for key, t in (r.get("tasks") or {}).items():
                put(f"dsg/{tag_task(key)}_go", 1.0 if t.get("state") == "go" else 0.0)
        elif kind == "dsg":
            put(f"val/{task}_early_stop", 1.0 if r.get("state") == "stop" else 0.0)
            put(f"dsg/{task}_best", r.get("best"))
        elif kind == "dsg_reset":
            put("dsg/reset_epoch", r.get("epoch"))
    return out


def float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--log-every", type=int)
    parser.add_argument("--last-step", type=int)
    parser.add_argument("--require", nargs="*", default=[])
    args = parser.parse_args()
    problems = []
    scalars, files = read_scalars(args.run_dir, problems)
    if not files:
        problems.append(f"{args.run_dir}: no event files")
    records = [json.loads(line) for line in open(os.path.join(args.run_dir, "metrics.jsonl")) if line.strip()]
    expected = expected_scalars(records)
    for key in sorted(set(expected) - set(scalars)):
        problems.append(f"missing: {key[0]} at step {key[1]} (metrics.jsonl has it)")
    for key in sorted(set(scalars) - set(expected)):
        problems.append(f"extra: {key[0]} at step {key[1]} (not in metrics.jsonl)")
    for key in sorted(set(scalars) & set(expected)):
        (value, wall), (want, want_wall) = scalars[key], expected[key]
        if value != float32(want) or wall != want_wall:
            problems.append(f"{key[0]} at step {key[1]}: {value} at {wall}, metrics.jsonl {want} at {want_wall}")
    if args.log_every:
        steps = sorted(step for tag, step in scalars if tag == "train/lr")
        want = sorted(set(range(args.log_every, args.last_step + 1, args.log_every)) | {args.last_step})
        if steps != want:
            problems.append(f"train/lr at steps {steps}, expected {want}")
    tags = {tag for tag, _ in scalars}
    for tag in args.require:
        if tag not in tags:
            problems.append(f"no {tag} (tags: {', '.join(sorted(tags))})")
    for p in problems[:30]:
        print("tb_reader:", p)
    print(f"tb_reader: {args.run_dir}: {len(files)} file(s), {len(scalars)} scalars, {len(tags)} tags, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
