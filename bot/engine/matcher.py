"""Recognise objections, FAQs and global intents in free prospect text with a bag-of-concepts scorer."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import attrs
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.engine import lexicon as lx
from bot.engine.normalize import clauses
from bot.engine.types import MatchKind

MAX_CHARS: Final = 500  # only the start of a message is matched: objections come first, and work stays bounded
_NEGATOR_REACH: Final = 2  # content words a negator reaches: "no money for", "not the decision maker"
_REASSURED_REACH: Final = 3  # content words before "fine"/"approved" that it reassures
_PLUS, _MINUS, _REASSURED = "+", "-", "ok"  # polarity of a feature: plain, negated, reassured

_Item = tuple[str, str]  # (kind, value); kind is "neg", "ok", "break", "stop" or "term"
_Candidates = dict[int, tuple[float, int]]  # intent -> (score, example)


@dataclass(frozen=True, kw_only=True)
class IntentSpec:
    """One thing the prospect may say instead of answering: an objection, a FAQ or a global intent."""

    kind: MatchKind
    id: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...] = ()


# attrs rather than a dataclass: one is built on most turns, and attrs builds it faster (see bot.engine.types)
@attrs.frozen(kw_only=True, slots=False)
class Match:
    """A recognised intent. `example` is the example or keyword that matched best, to explain the reply."""

    kind: MatchKind
    id: str
    confidence: float
    example: str


class IntentMatcher:
    """Find which objection, FAQ or global intent a message expresses. Built once per flow version.

    Every example (and keyword) is reduced at construction to concept features: synonyms and phrases
    from `bot.engine.lexicon`, light stems, typo correction with rapidfuzz. Each feature has a polarity
    (plain, negated by a nearby "not"/"no"/"never", or reassured by "is fine"/"is approved"/"no problem")
    and a weight that grows the fewer intents use it. A message is reduced the same way; the examples
    sharing a feature are found through an inverted index and scored by an F1 of weights: recall is how
    much of the example the message covers, precision how much of the message the intent's examples
    explain. A shared feature with the opposite polarity vetoes the example ("we have budget" never
    matches "we don't have budget"), and an example never fires on weak context words alone. An intent
    scores as its best example; a message equal to an example (after normalisation) scores 1.

    Only the first `MAX_CHARS` characters of a message are read. Matching is pure and thread-safe.
    """

    def __init__(self, specs: Sequence[IntentSpec], *, threshold: float = 0.72) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"IntentMatcher threshold must be between 0 and 1, got {threshold!r}")
        _check_specs(specs)
        self._specs = tuple(specs)
        self._threshold = threshold
        self._index = _Index.build(self._specs)

    def match(self, text: str) -> Match | None:
        """Return the best match at or above the threshold, else None."""
        candidates = self._index.candidates(text)
        if not candidates:
            return None
        intent, (score, example) = min(candidates.items(), key=_best_first)
        best = self._to_match(intent, score, example)
        return best if best.confidence >= self._threshold else None  # compare what is reported

    def rank(self, text: str, limit: int = 3) -> list[Match]:
        """Return up to `limit` candidates, best first, whatever their confidence (for debugging)."""
        ranked = sorted(self._index.candidates(text).items(), key=_best_first)
        return [self._to_match(intent, score, example) for intent, (score, example) in ranked[: max(limit, 0)]]

    def _to_match(self, intent: int, score: float, example: int) -> Match:
        spec = self._specs[intent]
        confidence = round(min(1.0, max(0.0, score)), 4)
        return Match(kind=spec.kind, id=spec.id, confidence=confidence, example=self._index.texts[example])


def _best_first(candidate: tuple[int, tuple[float, int]]) -> tuple[float, int]:
    intent, (score, _) = candidate
    return (-score, intent)  # ties go to the intent declared first


def _check_specs(specs: Sequence[IntentSpec]) -> None:
    seen: set[tuple[MatchKind, str]] = set()
    for spec in specs:
        key = (spec.kind, spec.id)
        if key in seen:
            raise ValueError(f"{spec.kind.value} '{spec.id}' is declared twice; merge its examples into one")
        seen.add(key)
        if not any(text.strip() for text in (*spec.examples, *spec.keywords)):
            raise ValueError(f"{spec.kind.value} '{spec.id}' has no examples or keywords; add at least one")


# ---------------------------------------------------------------- the index built from the specs


@dataclass(frozen=True, kw_only=True)
class _Posting:
    """What one feature with one polarity says about the examples (all precomputed)."""

    weight: float
    weak: bool  # a weak concept neither vetoes nor, alone, fires an example
    agree: tuple[int, ...]  # examples with this feature and polarity
    disagree: tuple[int, ...]  # examples with this feature and another polarity
    intents: tuple[int, ...]  # intents of the agreeing examples, each once


@dataclass(frozen=True, kw_only=True)
class _Index:
    """Everything precomputed from the specs; read-only after construction. Examples are numbered."""

    lexicon: _Lexicon
    postings: Mapping[tuple[str, str], _Posting]  # (feature, polarity) -> posting
    texts: tuple[str, ...]
    intents: tuple[int, ...]
    weights: tuple[float, ...]  # sum of each example's feature weights
    strong: tuple[bool, ...]  # whether the example has a feature that is not a weak concept
    exact: Mapping[str, int]  # normalised example text -> example

    @classmethod
    def build(cls, specs: Sequence[IntentSpec]) -> _Index:
        texts = [(i, text) for i, spec in enumerate(specs) for text in (*spec.examples, *spec.keywords)]
        parsed = [(i, text, clauses(text)) for i, text in texts if text.strip()]
        lexicon = _Lexicon.build(word for _, _, parts in parsed for clause in parts for word in clause)
        features = [_analyze(lexicon, parts) for _, _, parts in parsed]
        intents = tuple(i for i, _, _ in parsed)
        weights = _feature_weights(len(specs), list(zip(intents, features, strict=True)))
        exact: dict[str, int] = {}
        for example, (_, _, parts) in enumerate(parsed):
            exact.setdefault(_exact_key(parts), example)
        return cls(
            lexicon=lexicon,
            postings=MappingProxyType(_postings(features, intents, weights)),
            texts=tuple(text for _, text, _ in parsed),
            intents=intents,
            weights=tuple(sum(weights[t] for t in found) for found in features),
            strong=tuple(any(t not in lx.WEAK_CONCEPTS for t in found) for found in features),
            exact=MappingProxyType(exact),
        )

    def candidates(self, text: str) -> _Candidates:
        """Score the intents whose examples share a feature with `text`, each by its best example.

        Recall is how much of the example the message covers; precision is how much of the message the
        intent's examples explain together, so "we're slammed, try later" is fully explained by not_now
        even though no single example says both.
        """
        parts = clauses(text[:MAX_CHARS])
        shared: dict[int, float] = {}
        explained: dict[int, float] = {}
        strong_hit: set[int] = set()
        vetoed: set[int] = set()
        message_weight = 0.0
        for feature in _analyze(self.lexicon, parts).items():
            posting = self.postings.get(feature)
            if posting is None:
                message_weight += _base_weight(feature[0])
                continue
            weight = posting.weight
            message_weight += weight
            for intent in posting.intents:
                explained[intent] = explained.get(intent, 0.0) + weight
            for example in posting.agree:
                shared[example] = shared.get(example, 0.0) + weight
            if not posting.weak:
                strong_hit.update(posting.agree)
                vetoed.update(posting.disagree)
        best: _Candidates = {}
        for example, weight in shared.items():
            if example in vetoed or (self.strong[example] and example not in strong_hit):
                continue
            intent = self.intents[example]
            recall, precision = weight / self.weights[example], explained[intent] / message_weight
            score = 2.0 * precision * recall / (precision + recall)
            if score > best.get(intent, (0.0, 0))[0]:
                best[intent] = (score, example)
        exact = self.exact.get(_exact_key(parts))
        if exact is not None:
            best[self.intents[exact]] = (1.0, exact)
        return best


def _postings(
    features: Sequence[Mapping[str, str]], intents: Sequence[int], weights: Mapping[str, float]
) -> dict[tuple[str, str], _Posting]:
    """One posting per feature and polarity, so scoring a message feature is a single lookup."""
    polarity_of: dict[str, dict[int, str]] = {}
    for example, found in enumerate(features):
        for term, polarity in found.items():
            polarity_of.setdefault(term, {})[example] = polarity
    postings: dict[tuple[str, str], _Posting] = {}
    for term, by_example in polarity_of.items():
        for polarity in (_PLUS, _MINUS, _REASSURED):
            agree = tuple(example for example, p in by_example.items() if p == polarity)
            postings[(term, polarity)] = _Posting(
                weight=weights[term],
                weak=term in lx.WEAK_CONCEPTS,
                agree=agree,
                disagree=tuple(example for example, p in by_example.items() if p != polarity),
                intents=tuple(dict.fromkeys(intents[example] for example in agree)),
            )
    return postings


def _exact_key(parts: Sequence[Sequence[str]]) -> str:
    return " ".join(" ".join(clause) for clause in parts)


def _feature_weights(intent_count: int, found: Sequence[tuple[int, Mapping[str, str]]]) -> dict[str, float]:
    """Weight each feature by how few intents use it (an IDF), times its base weight."""
    intents_per_term: dict[str, set[int]] = {}
    for intent, features in found:
        for term in features:
            intents_per_term.setdefault(term, set()).add(intent)
    scale = 1.0 + math.log(max(intent_count, 1))
    return {
        term: _base_weight(term) * (1.0 + math.log(intent_count / len(intents))) / scale
        for term, intents in intents_per_term.items()
    }


def _base_weight(term: str) -> float:
    """Concepts count fully; plain words, weak concepts, numbers and question words count less."""
    if term.startswith("#"):
        return 0.7
    if term in lx.QUESTION_WORDS:
        return 0.4
    if not term.isupper() or term in lx.WEAK_CONCEPTS:
        return 0.5
    return 1.0


# ---------------------------------------------------------------- words -> items


@dataclass(frozen=True, kw_only=True)
class _PhraseNode:
    """A node of the phrase trie: the items of the phrase that ends here (if any), and what may follow."""

    items: tuple[_Item, ...] | None
    next: Mapping[str, _PhraseNode]


@dataclass(frozen=True, kw_only=True)
class _Lexicon:
    """The word tables compiled for one set of examples: a phrase trie, word classes and typo candidates."""

    phrases: Mapping[str, _PhraseNode]
    known: Mapping[str, tuple[str, _Item]]  # word of the tables, examples or everyday English -> (stem, item)
    candidates: Mapping[tuple[str, int], tuple[str, ...]]  # (first letter, length) -> words a typo may be of

    @classmethod
    def build(cls, example_words: Iterable[str]) -> _Lexicon:
        tables = {**lx.SYNONYMS, **lx.PHRASES}
        synonyms = {key: value for key, value in tables.items() if " " not in key}
        table_words = {word for key in tables for word in key.split()}
        vocabulary = table_words | set(example_words) | lx.COMMON_WORDS | lx.STOPWORDS | lx.NEGATORS
        vocabulary |= lx.REASSURANCES | lx.SCOPE_BREAKERS | lx.QUESTION_WORDS
        buckets: dict[tuple[str, int], list[str]] = {}
        for word in sorted(table_words):
            if len(word) >= 3 and word.isalpha():  # a 4-letter typo may drop a letter of a 5-letter word
                for length in range(len(word) - 2, len(word) + 3):
                    if abs(length - len(word)) <= _allowed_edits(length):
                        buckets.setdefault((word[0], length), []).append(word)
        return cls(
            phrases=_phrase_trie({key: value for key, value in tables.items() if " " in key}),
            known=MappingProxyType({w: (light_stem(w), _classify_word(synonyms, w)) for w in vocabulary}),
            candidates=MappingProxyType({key: tuple(words) for key, words in buckets.items()}),
        )

    def items(self, clause: Sequence[str]) -> list[_Item]:
        """Turn a clause into items, taking the longest phrase that starts at each word."""
        known = self.known.get
        resolved = [known(word) or self._resolve(word) for word in clause]
        items: list[_Item] = []
        i = 0
        while i < len(resolved):
            phrase, end = (None, i) if resolved[i][0] not in self.phrases else self._longest_phrase(resolved, i)
            if phrase is None:
                items.append(resolved[i][1])
                i += 1
            else:  # a phrase may stand for several items: "out of budget" -> <neg> BUDGET
                items.extend(phrase)
                i = end
        return items

    def _resolve(self, word: str) -> tuple[str, _Item]:
        """The stem of the word (corrected if it is a likely typo: "expensiv" -> "expensive") and its item."""
        known = self.known.get(word)
        if known is not None:
            return known
        stem = light_stem(word)
        known = self.known.get(stem) or self.known.get(self._correct(word))
        return known if known is not None else (stem, _classify_unknown(word, stem))

    def _correct(self, word: str) -> str:
        if len(word) < 4 or not word.isalpha():
            return word
        candidates = self.candidates.get((word[0], len(word)), ())
        found = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=_allowed_edits(len(word)))
        return word if found is None else str(found[0])

    def _longest_phrase(
        self, resolved: Sequence[tuple[str, _Item]], start: int
    ) -> tuple[tuple[_Item, ...] | None, int]:
        best: tuple[tuple[_Item, ...] | None, int] = (None, start)
        node = self.phrases.get(resolved[start][0])
        position = start + 1
        while node is not None:
            if node.items is not None:
                best = (node.items, position)
            if position == len(resolved):
                break
            node = node.next.get(resolved[position][0])
            position += 1
        return best


def _allowed_edits(length: int) -> int:
    """Typo budget: edits (a swap of neighbours counts as one) a word of this length may differ by."""
    return 1 if length < 9 else 2


def _phrase_trie(phrases: Mapping[str, str]) -> Mapping[str, _PhraseNode]:
    tree: dict[str, Any] = {}
    for phrase, value in phrases.items():
        node = tree
        for word in phrase.split():  # keyed by stems, so "pen tests" finds "pen test"
            node = node.setdefault(light_stem(word), {})
        node[""] = tuple(_classify_concept(part) for part in value.split())
    return _freeze(tree)


def _freeze(tree: Mapping[str, Any]) -> Mapping[str, _PhraseNode]:
    return MappingProxyType(
        {
            word: _PhraseNode(items=child.get(""), next=_freeze({k: v for k, v in child.items() if k}))
            for word, child in tree.items()
            if word
        }
    )


def light_stem(word: str) -> str:
    """Strip one common English suffix so "integrations", "integrated" and "integrate" compare equal."""
    if len(word) <= 4 or not word.isalpha():
        return word
    if word[-1] not in "sgd":  # no suffix below ends otherwise
        return word.removesuffix("e")
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            stem = word[: len(word) - len(suffix)] + repl
            if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
                stem = stem[:-1]  # "setting" -> "set", "planned" -> "plan"
            return stem.removesuffix("e") if len(stem) > 4 else stem
    return word.removesuffix("e")


def _classify_concept(value: str) -> _Item:
    if value == lx.NEG:
        return ("neg", value)
    if value == lx.OK:
        return ("ok", value)
    return ("term", value)


def _classify_word(synonyms: Mapping[str, str], word: str) -> _Item:
    if word in lx.NEGATORS:
        return ("neg", word)
    if word in lx.REASSURANCES:
        return ("ok", word)
    stem = light_stem(word)
    concept = synonyms.get(word) or synonyms.get(stem)
    if concept is not None:
        return ("term", concept)
    if word in lx.SCOPE_BREAKERS:
        return ("break", word)
    if word in lx.STOPWORDS:
        return ("stop", word)
    return _classify_unknown(word, stem)


def _classify_unknown(word: str, stem: str) -> _Item:
    """A word no table knows is a plain feature: its stem, or a placeholder for numbers and addresses."""
    if not word.isalpha():
        if any(char.isdigit() for char in word):
            return ("term", "#number")
        if "@" in word or "." in word:
            return ("term", "#address")
    return ("term", stem)


# ---------------------------------------------------------------- items -> features with polarity


def _analyze(lexicon: _Lexicon, parts: Sequence[Sequence[str]]) -> dict[str, str]:
    """Reduce clauses to {feature: polarity}. A feature seen twice keeps its first polarity."""
    features: dict[str, str] = {}
    for clause in parts:
        for term, polarity in _polarities(lexicon.items(clause)):
            features.setdefault(term, polarity)
    return features


def _polarities(items: Sequence[_Item]) -> list[tuple[str, str]]:
    """Give each term of a clause its polarity: negated, reassured or plain."""
    out: list[tuple[str, str]] = []
    reach = 0
    reassure_next = False
    for index, (kind, value) in enumerate(items):
        if kind == "neg":
            reach = _NEGATOR_REACH
        elif kind == "ok":
            if reach:  # "not good", "not ok": a complaint, not a reassurance
                out.append(("BAD", _PLUS))
                reach = 0
            elif value == lx.OK or _after_copula(items, index):  # idioms ("no problem") need no copula
                _reassure_previous(out)
                reassure_next = True
        elif kind == "break":
            reach = 0
        elif kind == "term":
            out.append((value, _MINUS if reach else _REASSURED if reassure_next else _PLUS))
            reassure_next = False
            if reach and value not in lx.LIGHT_WORDS:
                reach -= 1
    return out


def _after_copula(items: Sequence[_Item], index: int) -> bool:
    """Whether a reassurance is predicated ("budget is approved"), not an interjection ("ok, send it")."""
    return any(kind == "stop" and value in lx.COPULAS for kind, value in items[max(0, index - 2) : index])


def _reassure_previous(out: list[tuple[str, str]]) -> None:
    for position in range(max(0, len(out) - _REASSURED_REACH), len(out)):
        term, polarity = out[position]
        if polarity == _PLUS:
            out[position] = (term, _REASSURED)
