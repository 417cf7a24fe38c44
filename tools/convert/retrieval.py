"""Caption retrieval: Karpathy-split files dataset_coco.json / dataset_flickr30k.json
({images: [{split, cocoid | filename, sentences: [{raw, sentid}]}]}) →
annotations/retrieval_coco|retrieval_flickr30k/<split>.jsonl, one line per caption.

--split train takes Karpathy "train" and "restval" (the 113k-image COCO training set);
val/test take their own. COCO image ids are the cocoid; Flickr30k ids the file name stem.
--hard-negatives FILE   optional JSON {caption_id: [image id, ...]} of offline negatives.
"""
from common import ConvertError, field, image_id_from_filename, load_json

SPLIT_MEMBERS = {"train": {"train", "restval"}, "val": {"val"}, "test": {"test"}}


def image_id_of(image, where):
    if "cocoid" in image:
        return str(image["cocoid"])
    return image_id_from_filename(field(image, "filename", where))


def read_hard_negatives(path):
    if not path:
        return {}
    data = load_json(path)
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise ConvertError(f"{path}: expected {{caption_id: [image id, ...]}}")
    return {str(k): [str(i) for i in v] for k, v in data.items()}


def records(args):
    if len(args.input) != 1:
        raise ConvertError(f"{args.dataset}: --input takes one Karpathy-split dataset file")
    if args.split not in SPLIT_MEMBERS:
        raise ConvertError(f"{args.dataset}: --split must be one of {', '.join(SPLIT_MEMBERS)}")
    path = args.input[0]
    members = SPLIT_MEMBERS[args.split]
    negatives = read_hard_negatives(args.hard_negatives)
    for n, image in enumerate(field(load_json(path), "images", path)):
        where = f"{path}: images[{n}]"
        if field(image, "split", where) not in members:
            continue
        image_id = image_id_of(image, where)
        where = f"{path}: image {image_id}"
        for sentence in field(image, "sentences", where):
            caption_id = str(field(sentence, "sentid", where))
            rec = {"caption_id": caption_id, "image_id": image_id,
                   "caption": field(sentence, "raw", f"{where}: sentence {caption_id}")}
            if caption_id in negatives:
                rec["hard_negatives"] = negatives[caption_id]
            yield rec
