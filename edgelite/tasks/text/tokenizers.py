"""Tokenizers of the text tasks, as tflite-support's C++ ones (``cc/text/tokenizers``).

- :class:`RegexTokenizer`: splits on the metadata's ``delim_regex_pattern`` (RE2 semantics:
  ``\\w``, ``\\s``, ``\\d`` are ASCII classes), keeps the pieces between delimiters, no case
  change; the vocabulary file has ``token id`` lines and must define ``<PAD>`` and ``<UNKNOWN>``
  (``<START>`` is optional).
- :class:`BertTokenizer`: WordPiece. Text is cut at whitespace (dropped) and at punctuation and
  CJK characters (kept as one-character tokens), then each word is split greedily into the
  longest vocabulary pieces, continuation pieces prefixed ``##``; a word that cannot be split
  (or longer than 100 bytes) becomes ``[UNK]``. The vocabulary file has one token per line
  (its line number is the id).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Dict, List, Optional

PAD, START, UNKNOWN = "<PAD>", "<START>", "<UNKNOWN>"


def read_lines(data: bytes) -> List[str]:
    """Non-empty ``'\\n'``-separated lines (``ReadIStreamLineByLine``)."""
    return [line for line in data.decode("utf-8", errors="replace").split("\n") if line]


def _re2_to_python(pattern: str) -> re.Pattern:
    # RE2's Perl classes are ASCII-only: compile with re.ASCII for \w \s \d \b.
    return re.compile(pattern, re.ASCII)


class RegexTokenizer:
    """Regex tokenizer with a ``token id`` vocabulary."""

    def __init__(self, delim_regex_pattern: str, vocab: bytes):
        self.delimiter = _re2_to_python(delim_regex_pattern)
        self.vocab: Dict[str, int] = {}
        for line in read_lines(vocab):
            fields = line.split(" ")
            if len(fields) < 2:
                raise ValueError(f"Bad vocabulary line {line!r}: expected 'token id'")
            self.vocab[fields[0]] = int(fields[1])

    def tokenize(self, text: str) -> List[str]:
        tokens, last = [], 0
        for match in self.delimiter.finditer(text):
            if match.end() == match.start():
                continue
            if match.start() > last:
                tokens.append(text[last:match.start()])
            last = match.end()
        if last < len(text):
            tokens.append(text[last:])
        return tokens

    def lookup(self, token: str) -> Optional[int]:
        return self.vocab.get(token)

    def encode(self, text: str, length: int) -> List[int]:
        """Ids padded with ``<PAD>`` to ``length``, starting with ``<START>`` if the vocab has it
        (``RegexPreprocessor``)."""
        pad, unknown, start = self.vocab.get(PAD), self.vocab.get(UNKNOWN), self.vocab.get(START)
        if unknown is None:
            raise ValueError("RegexTokenizer doesn't have <UNKNOWN> token.")
        if pad is None:
            raise ValueError("RegexTokenizer doesn't have <PAD> token.")
        ids = [pad] * length
        position = 0
        if start is not None and length:
            ids[0] = start
            position = 1
        for token in self.tokenize(text):
            if position >= length:
                break
            ids[position] = self.vocab.get(token, unknown)
            position += 1
        return ids


_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
               (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
_RE2_SPACE = " \t\n\f\r"


def _is_kept_delimiter(ch: str) -> bool:
    code = ord(ch)
    if 0x21 <= code <= 0x2F or 0x3A <= code <= 0x40 or 0x5B <= code <= 0x60 or 0x7B <= code <= 0x7E:
        return True
    if unicodedata.category(ch).startswith("P"):
        return True
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def bert_pre_tokenize(text: str) -> List[str]:
    """Split at whitespace (dropped) and at punctuation / CJK characters (kept)."""
    tokens: List[str] = []
    word: List[str] = []
    for ch in text:
        if ch in _RE2_SPACE:
            if word:
                tokens.append("".join(word))
                word = []
        elif _is_kept_delimiter(ch):
            if word:
                tokens.append("".join(word))
                word = []
            tokens.append(ch)
        else:
            word.append(ch)
    if word:
        tokens.append("".join(word))
    return tokens


class BertTokenizer:
    """WordPiece tokenizer on a one-token-per-line vocabulary."""

    def __init__(self, vocab: bytes, max_bytes_per_token: int = 100,
                 max_chars_per_subtoken: int = 100, suffix_indicator: str = "##",
                 unknown_token: str = "[UNK]"):
        self.tokens = read_lines(vocab)
        self.vocab = {token: i for i, token in enumerate(self.tokens)}
        self.max_bytes_per_token = max_bytes_per_token
        self.max_chars_per_subtoken = max_chars_per_subtoken
        self.suffix_indicator = suffix_indicator
        self.unknown_token = unknown_token

    def wordpiece(self, word: str) -> List[str]:
        if len(word.encode("utf-8")) > self.max_bytes_per_token:
            return [self.unknown_token]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            found = None
            while end > start:
                piece = word[start:end]
                if start > 0:
                    piece = self.suffix_indicator + piece
                if end - start <= self.max_chars_per_subtoken and piece in self.vocab:
                    found = piece
                    break
                end -= 1
            if found is None:
                return [self.unknown_token]
            pieces.append(found)
            start = end
        return pieces

    def tokenize(self, text: str) -> List[str]:
        return [piece for word in bert_pre_tokenize(text) for piece in self.wordpiece(word)]

    def lookup(self, token: str) -> Optional[int]:
        return self.vocab.get(token)


def ascii_lower(text: str) -> str:
    """``absl::AsciiStrToLower``: only A-Z change."""
    return text.translate({c: c + 32 for c in range(0x41, 0x5B)})


def bert_encode(tokenizer: BertTokenizer, text: str, max_seq_len: int):
    """``(ids, mask, segment_ids)`` of ``[CLS] tokens [SEP]`` zero-padded to ``max_seq_len``
    (``BertPreprocessor``: the text is ASCII-lowercased first; unknown ids stay 0)."""
    subwords = tokenizer.tokenize(ascii_lower(text))
    count = min(max_seq_len, len(subwords) + 2)
    tokens = ["[CLS]"] + subwords[:count - 2] + ["[SEP]"]
    ids = [0] * max_seq_len
    mask = [0] * max_seq_len
    for i, token in enumerate(tokens):
        found = tokenizer.lookup(token)
        if found is not None:
            ids[i] = found
        mask[i] = 1
    return ids, mask, [0] * max_seq_len
