"""A reference BERT tokenizer for the golden batches, written here from the published algorithm
(Devlin et al. 2019, BERT's basic tokenisation and greedy longest-match-first WordPiece), not
from vlmt's text/wordpiece.cpp, with the interface of pytorch_transformers 1.0's BertTokenizer
that the released dataset classes call: encode, add_special_tokens_single_sentence,
convert_tokens_to_ids, mask_token, len(). pytorch_transformers is not a Debian package.

Uncased (do_lower_case=True, what the released bert-base-uncased runs use):
  1. clean: drop NUL, U+FFFD and control characters, turn every whitespace character into ' ';
  2. put spaces around CJK ideographs;
  3. split on whitespace; each word lower-cased and its accents removed (NFD, drop Mn);
  4. split off every punctuation character (ASCII 33-47, 58-64, 91-96, 123-126, Unicode P*);
  5. WordPiece per word: longest vocabulary prefix first, continuations as '##piece'; a word
     longer than 100 characters or with an unmatched remainder is [UNK].
Special tokens ([CLS], [SEP], [MASK], ...) inside a text are kept whole, as the released
tokenizer's never_split list does.
"""
import unicodedata

SPECIAL = ("[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]")
MAX_WORD_CHARS = 100


def _is_whitespace(ch):
    return ch in (" ", "\t", "\n", "\r") or unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokens(text):
    cleaned = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_cjk(cp):
            cleaned.append(f" {ch} ")
        else:
            cleaned.append(" " if _is_whitespace(ch) else ch)
    out = []
    for word in "".join(cleaned).split():
        if word in SPECIAL:
            out.append(word)
            continue
        word = unicodedata.normalize("NFD", word.lower())
        word = "".join(ch for ch in word if unicodedata.category(ch) != "Mn")
        current = ""
        for ch in word:
            if _is_punctuation(ch):
                if current:
                    out.append(current)
                out.append(ch)
                current = ""
            else:
                current += ch
        if current:
            out.append(current)
    return out


class BertTokenizer(object):
    """The subset of pytorch_transformers 1.0's BertTokenizer the released datasets use."""

    mask_token = "[MASK]"
    unk_token = "[UNK]"

    def __init__(self, vocab_path):
        with open(vocab_path, encoding="utf-8") as f:
            tokens = [line.rstrip("\n") for line in f]
        self.vocab = {t: i for i, t in enumerate(tokens) if t}

    def __len__(self):
        return len(self.vocab)

    def _wordpieces(self, word):
        if len(word) > MAX_WORD_CHARS:
            return [self.unk_token]
        pieces, start = [], 0
        while start < len(word):
            end, piece = len(word), None
            while start < end:
                candidate = word[start:end] if start == 0 else "##" + word[start:end]
                if candidate in self.vocab:
                    piece = candidate
                    break
                end -= 1
            if piece is None:
                return [self.unk_token]
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text):
        return [p for word in basic_tokens(text)
                for p in ([word] if word in SPECIAL else self._wordpieces(word))]

    def convert_tokens_to_ids(self, tokens):
        if isinstance(tokens, str):
            return self.vocab.get(tokens, self.vocab[self.unk_token])
        return [self.vocab.get(t, self.vocab[self.unk_token]) for t in tokens]

    def encode(self, text):
        return self.convert_tokens_to_ids(self.tokenize(text))

    def add_special_tokens_single_sentence(self, token_ids):
        return [self.vocab["[CLS]"]] + list(token_ids) + [self.vocab["[SEP]"]]
