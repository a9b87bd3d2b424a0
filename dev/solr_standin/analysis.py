"""Text analysis: the tokenizers and filters named in CKAN's schema.xml.

Each Solr factory class used by an ``<analyzer>`` chain maps to a small
Python function here, so a field type analyses text the way its chain in
the schema says, not the way we happen to guess.  Tokens are
``(term, position)`` pairs; positions let phrase queries work.
"""
from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import snowballstemmer

log = logging.getLogger(__name__)

Token = tuple[str, int]
TokenFilter = Callable[[list[Token]], list[Token]]

# Letters that Unicode does not decompose but Lucene's ASCIIFoldingFilter
# still folds; the common European ones are enough for a stand-in.
_FOLD_SPECIAL = {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe",
                 "Œ": "OE", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th",
                 "Þ": "TH", "ð": "d", "Ð": "D", "ı": "i"}


def ascii_fold(text: str) -> str:
    """Fold accented Latin characters to ASCII and leave other scripts alone.

    NFKD would also decompose e.g. Hangul, which Lucene keeps intact, so a
    character is only replaced when its folded form is plain ASCII.
    """
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
        elif char in _FOLD_SPECIAL:
            out.append(_FOLD_SPECIAL[char])
        else:
            folded = "".join(c for c in unicodedata.normalize("NFKD", char)
                             if not unicodedata.combining(c))
            out.append(folded if folded and folded.isascii() else char)
    return "".join(out)


# Character classes of Lucene's WordDelimiterIterator, as bit flags so that
# "same class" is a bitwise test exactly as in Lucene (a letter without case
# counts as both lower and upper and so never causes a case-change split).
_LOWER, _UPPER, _DIGIT, _DELIM = 1, 2, 4, 8
_ALPHA = _LOWER | _UPPER


def _char_class(char: str) -> int:
    if char.isdigit():
        return _DIGIT
    if char.isalpha():
        if char.islower():
            return _LOWER
        return _UPPER if char.isupper() else _ALPHA
    return _DELIM


def _is_break(last: int, cur: int, split_on_case: bool, split_on_numerics: bool) -> bool:
    """Port of WordDelimiterIterator.isBreak: where a sub-word boundary lies."""
    if last & cur:
        return False
    if not split_on_case and last & _ALPHA and cur & _ALPHA:
        return False
    if last & _UPPER and cur & _ALPHA:
        return False  # "ABc" stays one part, only lower->Upper splits
    # Letter<->digit changes split unless splitOnNumerics is off.
    return split_on_numerics or not ((last & _ALPHA and cur & _DIGIT) or (last & _DIGIT and cur & _ALPHA))


def split_subwords(token: str, split_on_case: bool = True,
                   split_on_numerics: bool = True) -> list[str]:
    """Split one token on delimiters, case changes and letter/digit changes."""
    if token.endswith(("'s", "'S")):  # stemEnglishPossessive, on by default
        token = token[:-2]
    parts: list[str] = []
    current = ""
    last = _DELIM
    for char in token:
        cls = _char_class(char)
        if cls == _DELIM:
            if current:
                parts.append(current)
            current, last = "", _DELIM
            continue
        if current and _is_break(last, cls, split_on_case, split_on_numerics):
            parts.append(current)
            current = ""
        current += char
        last = cls
    if current:
        parts.append(current)
    return parts


def word_delimiter(attrs: Mapping[str, str]) -> TokenFilter:
    """WordDelimiter(Graph)FilterFactory with the options CKAN's schema uses."""
    def flag(name: str, default: str = "0") -> bool:
        return attrs.get(name, default).lower() in ("1", "true")

    gen_words, gen_numbers = flag("generateWordParts", "1"), flag("generateNumberParts", "1")
    cat_words, cat_numbers = flag("catenateWords"), flag("catenateNumbers")
    split_case, split_nums = flag("splitOnCaseChange", "1"), flag("splitOnNumerics", "1")

    def apply(tokens: list[Token]) -> list[Token]:
        out: list[Token] = []
        start = 0
        for term, _ in tokens:
            parts = split_subwords(term, split_case, split_nums)
            out.extend((part, start + i) for i, part in enumerate(parts)
                       if (gen_numbers if part[0].isdigit() else gen_words))
            # Catenation joins each run of adjacent word (or number) parts
            # and puts the result at the run's first position, like Lucene.
            i = 0
            while i < len(parts):
                j = i
                while j + 1 < len(parts) and parts[j + 1][0].isdigit() == parts[i][0].isdigit():
                    j += 1
                if j > i and (cat_numbers if parts[i][0].isdigit() else cat_words):
                    out.append(("".join(parts[i:j + 1]), start + i))
                i = j + 1
            start += max(1, len(parts))
        return out
    return apply


_stemmers = threading.local()  # snowballstemmer objects are not thread-safe


def snowball(language: str, protected: frozenset[str]) -> TokenFilter:
    def apply(tokens: list[Token]) -> list[Token]:
        stemmer = getattr(_stemmers, language, None)
        if stemmer is None:
            stemmer = snowballstemmer.stemmer(language)
            setattr(_stemmers, language, stemmer)
        return [(t if t in protected else stemmer.stemWord(t), p) for t, p in tokens]
    return apply


def _word_file(base: Path, name: str | None) -> frozenset[str]:
    """Read a Solr word list such as protwords.txt; a missing file is empty.

    CKAN ships only schema.xml, so the referenced files usually do not exist;
    Solr images provide empty ones, which is what we assume here.
    """
    path = base / name if name else None
    if path is None or not path.is_file():
        return frozenset()
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


class Analyzer:
    """A tokenizer plus a chain of token filters, built from schema XML."""

    def __init__(self, tokenizer: Callable[[str], list[Token]],
                 filters: list[TokenFilter], multiterm: list[TokenFilter]) -> None:
        self._tokenizer = tokenizer
        self._filters = filters
        # Wildcard, prefix and range terms skip tokenizing and stemming; Solr
        # applies only the "multi-term aware" filters (lowercase, folding).
        self._multiterm = multiterm

    def analyze(self, text: str) -> list[Token]:
        tokens = self._tokenizer(text)
        for apply in self._filters:
            tokens = apply(tokens)
        return tokens

    def normalize(self, text: str) -> str:
        tokens = [(text, 0)]
        for apply in self._multiterm:
            tokens = apply(tokens)
        return tokens[0][0]


def _ngram(min_size: int, max_size: int) -> Callable[[str], list[Token]]:
    def tokenize(text: str) -> list[Token]:
        grams = [text[i:i + n] for i in range(len(text))
                 for n in range(min_size, max_size + 1) if i + n <= len(text)]
        return [(g, i) for i, g in enumerate(grams)]
    return tokenize


def build_analyzer(tokenizer: Mapping[str, str], filters: Iterable[Mapping[str, str]],
                   base: Path) -> Analyzer:
    """Build an Analyzer from the attributes of <tokenizer> and <filter> elements.

    Only what CKAN's schemas use is implemented; anything else is logged and
    approximated (whitespace tokenizing) or skipped (filters).
    """
    kind = tokenizer.get("class", "").rsplit(".", 1)[-1]
    tokenize: Callable[[str], list[Token]]
    if kind == "NGramTokenizerFactory":
        tokenize = _ngram(int(tokenizer.get("minGramSize", "1")), int(tokenizer.get("maxGramSize", "2")))
    elif kind == "KeywordTokenizerFactory":
        tokenize = lambda text: [(text, 0)]
    else:
        if kind != "WhitespaceTokenizerFactory":
            log.warning("tokenizer %s not supported, splitting on whitespace", kind)
        tokenize = lambda text: [(t, i) for i, t in enumerate(text.split())]
    chain: list[TokenFilter] = []
    multiterm: list[TokenFilter] = []
    for attrs in filters:
        name = attrs.get("class", "").rsplit(".", 1)[-1]
        if name == "LowerCaseFilterFactory":
            chain.append(lambda ts: [(t.lower(), p) for t, p in ts])
            multiterm.append(chain[-1])
        elif name == "ASCIIFoldingFilterFactory":
            chain.append(lambda ts: [(ascii_fold(t), p) for t, p in ts])
            multiterm.append(chain[-1])
        elif name in ("WordDelimiterGraphFilterFactory", "WordDelimiterFilterFactory"):
            chain.append(word_delimiter(attrs))
        elif name == "SnowballPorterFilterFactory":
            language = attrs.get("language", "English").lower()
            chain.append(snowball(language, _word_file(base, attrs.get("protected"))))
        elif name not in ("FlattenGraphFilterFactory", "SynonymGraphFilterFactory"):
            # Synonyms are skipped on purpose: CKAN ships no synonyms.txt.
            log.warning("filter %s not supported, ignored", name)
    return Analyzer(tokenize, chain, multiterm)
