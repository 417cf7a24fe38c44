"""The official VQA answer normalisation (VQA evaluation code, as used to build the training
targets of bottom-up-attention / ViLBERT): punctuation, number words, articles, contractions.

Rules (facts of the official code, reimplemented here):
  * punctuation ; / [ ] " { } ( ) = + \\ _ - > < @ ` , ? ! is deleted when it touches a space or
    the text contains a digit-comma-digit group, otherwise replaced by a space;
  * a period not followed by a digit is deleted;
  * lower-case, split on whitespace, number words zero..ten → digits, drop a/an/the;
  * apostrophe-less contractions are restored ("dont" → "don't");
  * finally the training-target preprocessing removes any remaining commas.
"""
import re

PUNCTUATION = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<",
               "@", "`", ",", "?", "!"]
PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")  # the official pattern, quirks included
COMMA_STRIP = re.compile(r"(\d)(,)(\d)")
NUMBER_WORDS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
                "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
ARTICLES = {"a", "an", "the"}

# word without apostrophes → contraction; several spellings may map to the same contraction.
_CONTRACTIONS = {
    "ain't": ["aint"], "aren't": ["arent"], "can't": ["cant"], "could've": ["couldve"],
    "couldn't": ["couldnt"], "couldn't've": ["couldnt've", "couldn'tve"], "didn't": ["didnt"],
    "doesn't": ["doesnt"], "don't": ["dont"], "hadn't": ["hadnt"],
    "hadn't've": ["hadnt've", "hadn'tve"], "hasn't": ["hasnt"], "haven't": ["havent"],
    "he'd": ["hed"], "he'd've": ["hed've", "he'dve"], "he's": ["hes"], "how'd": ["howd"],
    "how'll": ["howll"], "how's": ["hows"], "I'd've": ["Id've", "I'dve"], "I'm": ["Im"],
    "I've": ["Ive"], "isn't": ["isnt"], "it'd": ["itd"], "it'd've": ["itd've", "it'dve"],
    "it'll": ["itll"], "let's": ["let's"], "ma'am": ["maam"], "mightn't": ["mightnt"],
    "mightn't've": ["mightnt've", "mightn'tve"], "might've": ["mightve"],
    "mustn't": ["mustnt"], "must've": ["mustve"], "needn't": ["neednt"], "not've": ["notve"],
    "o'clock": ["oclock"], "oughtn't": ["oughtnt"],
    "'ow's'at": ["ow's'at", "'ows'at", "'ow'sat"], "shan't": ["shant"],
    "she'd've": ["shed've", "she'dve"], "she's": ["she's"], "should've": ["shouldve"],
    "shouldn't": ["shouldnt"], "shouldn't've": ["shouldnt've", "shouldn'tve"],
    "somebodyd": ["somebody'd"], "somebody'd've": ["somebodyd've", "somebody'dve"],
    "somebody'll": ["somebodyll"], "somebody's": ["somebodys"], "someone'd": ["someoned"],
    "someone'd've": ["someoned've", "someone'dve"], "someone'll": ["someonell"],
    "someone's": ["someones"], "something'd": ["somethingd"],
    "something'd've": ["somethingd've", "something'dve"], "something'll": ["somethingll"],
    "that's": ["thats"], "there'd": ["thered"], "there'd've": ["thered've", "there'dve"],
    "there're": ["therere"], "there's": ["theres"], "they'd": ["theyd"],
    "they'd've": ["theyd've", "they'dve"], "they'll": ["theyll"], "they're": ["theyre"],
    "they've": ["theyve"], "'twas": ["twas"], "wasn't": ["wasnt"],
    "we'd've": ["wed've", "we'dve"], "we've": ["weve"], "weren't": ["werent"],
    "what'll": ["whatll"], "what're": ["whatre"], "what's": ["whats"], "what've": ["whatve"],
    "when's": ["whens"], "where'd": ["whered"], "where's": ["wheres"], "where've": ["whereve"],
    "who'd": ["whod"], "who'd've": ["whod've", "who'dve"], "who'll": ["wholl"],
    "who's": ["whos"], "who've": ["whove"], "why'll": ["whyll"], "why're": ["whyre"],
    "why's": ["whys"], "won't": ["wont"], "would've": ["wouldve"], "wouldn't": ["wouldnt"],
    "wouldn't've": ["wouldnt've", "wouldn'tve"], "y'all": ["yall"],
    "y'all'll": ["yall'll", "y'allll"], "y'all'd've": ["yall'd've", "y'alld've", "y'all'dve"],
    "you'd": ["youd"], "you'd've": ["youd've", "you'dve"], "you'll": ["youll"],
    "you're": ["youre"], "you've": ["youve"],
}
CONTRACTIONS = {spelling: c for c, spellings in _CONTRACTIONS.items() for spelling in spellings}


def process_punctuation(text):
    out = text
    strip_all = COMMA_STRIP.search(text) is not None
    for p in PUNCTUATION:
        if strip_all or (p + " ") in text or (" " + p) in text:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    # The official code passes re.UNICODE as the count argument, i.e. at most 32 periods.
    return PERIOD_STRIP.sub("", out, count=32)


def process_digit_article(text):
    words = []
    for word in text.lower().split():
        word = NUMBER_WORDS.get(word, word)
        if word not in ARTICLES:
            words.append(CONTRACTIONS.get(word, word))
    return " ".join(words)


def normalize_answer(answer):
    """Raw human answer → the normalised string the answer vocabulary is built over."""
    text = str(answer).replace("\n", " ").replace("\t", " ").strip()
    return process_digit_article(process_punctuation(text)).replace(",", "")
