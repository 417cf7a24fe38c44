"""GuessWhat?! pointing: guesswhat.<train|valid|test>.jsonl (one game per line: id, image{id},
objects[{id, bbox [x,y,w,h]}], qas[{question, answer}], object_id, status) →
annotations/guesswhat/<split>.jsonl. The text is the dialog, "question answer" turns joined
by spaces; candidates are all objects of the image; answer is the target's index.
Only successful games are kept unless --all-games.
"""
from common import ConvertError, field, iter_jsonl, xywh_to_xyxy


def records(args):
    if len(args.input) != 1:
        raise ConvertError("guesswhat: --input takes one guesswhat.<split>.jsonl")
    path = args.input[0]
    for lineno, game in iter_jsonl(path):
        game_id = str(field(game, "id", f"{path}:{lineno}"))
        where = f"{path}:{lineno}: game {game_id}"
        if not args.all_games and field(game, "status", where) != "success":
            continue
        objects = field(game, "objects", where)
        object_ids = [field(o, "id", where) for o in objects]
        target = field(game, "object_id", where)
        if target not in object_ids:
            raise ConvertError(f"{where}: object_id {target} is not one of its objects")
        turns = [f"{field(qa, 'question', where)} {field(qa, 'answer', where)}"
                 for qa in field(game, "qas", where)]
        yield {"id": game_id, "image_id": str(field(field(game, "image", where), "id", where)),
               "text": " ".join(turns),
               "candidates": [xywh_to_xyxy(field(o, "bbox", f"{where}: object {o['id']}"), where)
                              for o in objects],
               "answer": object_ids.index(target)}
