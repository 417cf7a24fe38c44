"""The part of the refer tool (lichengunc/refer; vilbert-multi-task/tools/refer in the release)
that the released ReferExpressionDataset calls, written here from its documented behaviour:
the tool is Python 2 (print statements, cPickle over text-mode files) and cannot be imported by
Python 3, and its other imports (skimage, matplotlib, a compiled mask API) are not used here.

  REFER(data_root, dataset, splitBy)  reads <data_root>/<dataset>/refs(<splitBy>).p and
                                      instances.json (which must have images, annotations and
                                      categories, as the tool indexes all three)
  getRefIds(split=...)                ref ids in file order: 'train'/'val' exact, 'test' every
                                      split containing 'test', 'testA'/'testB'/'testC' every
                                      split containing that letter
  Refs                                {ref_id: ref}
  getRefBox(ref_id)                   the ref's annotation bbox [x, y, w, h]
"""
import json
import os
import pickle


class REFER(object):
    def __init__(self, data_root, dataset="refcoco", splitBy="unc"):
        directory = os.path.join(data_root, dataset)
        with open(os.path.join(directory, f"refs({splitBy}).p"), "rb") as f:
            self.refs = pickle.load(f, encoding="latin1")  # our own test files
        with open(os.path.join(directory, "instances.json")) as f:
            instances = json.load(f)
        for key in ("images", "annotations", "categories"):
            if key not in instances:
                raise KeyError(f"{directory}/instances.json has no '{key}' (the refer tool reads it)")
        anns = {a["id"]: a for a in instances["annotations"]}
        self.Refs = {r["ref_id"]: r for r in self.refs}
        self.refToAnn = {r["ref_id"]: anns[r["ann_id"]] for r in self.refs}

    def getRefIds(self, split=""):
        if split in ("testA", "testB", "testC"):
            keep = [r for r in self.refs if split[-1] in r["split"]]
        elif split == "test":
            keep = [r for r in self.refs if "test" in r["split"]]
        elif split in ("train", "val"):
            keep = [r for r in self.refs if r["split"] == split]
        elif split == "":
            keep = self.refs
        else:
            raise ValueError(f"no such split [{split}]")
        return [r["ref_id"] for r in keep]

    def getRefBox(self, ref_id):
        return self.refToAnn[ref_id]["bbox"]
