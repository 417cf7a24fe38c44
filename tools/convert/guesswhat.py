"""GuessWhat?! pointing: guesswhat.<train|valid|test>.jsonl (one game per line: id, image{id},
objects[{id, bbox [x,y,w,h]}], qas[{question, answer}], object_id, status) →
annotations/guesswhat/<split>.jsonl. The text is the dialog, "question answer" turns joined
by spaces; candidates are all objects of the image; answer is the target's index.
Only successful games are kept unless --all-games.
"""
from common import ConvertError, field, iter_jsonl, xywh_to_xyxy


def dialog_text(qas, where, released=False):
    """The dialog as one text: "question answer" turns joined by spaces; released=True: as the
    released guesswhat_pointing_dataset.py builds it, "start Q answer A stop" per turn."""
    turns = [(field(qa, "question", where), field(qa, "answer", where)) for qa in qas]
    if released:
        return " ".join(f"start {q} answer {a} stop" for q, a in turns)
    return " ".join(f"{q} {a}" for q, a in turns)


def game_record(game, path, lineno, released=False):
    """One game → a canonical line. released=True follows the released reader: candidates
    ordered by object id (its choice order), text in the released form."""
    game_id = str(field(game, "id", f"{path}:{lineno}"))
    where = f"{path}:{lineno}: game {game_id}"
    objects = field(game, "objects", where)
    if released:
        objects = sorted(objects, key=lambda o: field(o, "id", where))
    object_ids = [field(o, "id", where) for o in objects]
    target = field(game, "object_id", where)
    if target not in object_ids:
        raise ConvertError(f"{where}: object_id {target} is not one of its objects")
    return {"id": game_id, "image_id": str(field(field(game, "image", where), "id", where)),
            "text": dialog_text(field(game, "qas", where), where, released),
            "candidates": [xywh_to_xyxy(field(o, "bbox", f"{where}: object {o['id']}"), where)
                           for o in objects],
            "answer": object_ids.index(target)}


def records(args):
    if len(args.input) != 1:
        raise ConvertError("guesswhat: --input takes one guesswhat.<split>.jsonl")
    path = args.input[0]
    for lineno, game in iter_jsonl(path):
        if not args.all_games:
            where = f"{path}:{lineno}: game {field(game, 'id', f'{path}:{lineno}')}"
            if field(game, "status", where) != "success":
                continue
        yield game_record(game, path, lineno)
