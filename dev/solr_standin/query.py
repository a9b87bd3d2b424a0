"""Query parsing (lucene, dismax, edismax) on top of luqum, and evaluation.

luqum turns the query string into a syntax tree; ``QueryBuilder`` turns
that tree into the small query objects below, analysing each term with the
query analyzer of the field it targets.  A query object's ``score`` returns
None when a document does not match, else a BM25-style relevance score.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from luqum import tree
from luqum.exceptions import ParseError
from luqum.thread import parse  # luqum's thread-safe parser entry point

from .dates import resolve
from .document import Document, Stats
from .schema import BadRequest, Schema, SchemaField, Value

_K1, _B = 1.2, 0.75  # Lucene's BM25 defaults


class Query:
    def score(self, doc: Document, stats: Stats) -> float | None:
        raise NotImplementedError


class MatchAll(Query):
    def score(self, doc: Document, stats: Stats) -> float | None:
        return 1.0


@dataclass
class Term(Query):
    field: str
    term: str
    norms: bool  # text fields use length normalisation, exact fields do not

    def score(self, doc: Document, stats: Stats) -> float | None:
        positions = doc.terms.get(self.field, {}).get(self.term)
        if not positions:
            return None
        freq = len(positions)
        norm = doc.lengths.get(self.field, 1) / stats.avg_length(self.field) if self.norms else 1.0
        return stats.idf(self.field, self.term) * freq * (_K1 + 1) / (freq + _K1 * (1 - _B + _B * norm))


@dataclass
class Phrase(Query):
    field: str
    tokens: list[tuple[str, int]]  # (term, position relative to the first)
    slop: int

    def score(self, doc: Document, stats: Stats) -> float | None:
        postings = doc.terms.get(self.field, {})
        if any(term not in postings for term, _ in self.tokens):
            return None
        first_term, first_offset = self.tokens[0]
        for start in (p - first_offset for p in postings[first_term]):
            # Each later term must sit at its offset from the start, give or
            # take ``slop`` positions (a simplification of Lucene's slop).
            if all(any(abs(p - start - offset) <= self.slop for p in postings[term])
                   for term, offset in self.tokens[1:]):
                return sum(Term(self.field, t, True).score(doc, stats) or 0.0 for t, _ in self.tokens)
        return None


@dataclass
class Predicate(Query):
    """Constant-score match on a field's terms or values (wildcard, range...)."""
    field: str
    test: Callable[[Value], bool]
    on_terms: bool  # text fields are tested term by term

    def score(self, doc: Document, stats: Stats) -> float | None:
        candidates = doc.terms.get(self.field, {}) if self.on_terms else doc.values.get(self.field, [])
        return 1.0 if any(self.test(v) for v in candidates) else None


@dataclass
class Boolean(Query):
    must: list[Query] = field(default_factory=list)
    should: list[Query] = field(default_factory=list)
    must_not: list[Query] = field(default_factory=list)
    min_should: int = 0
    implicit: bool = False  # built from whitespace-joined clauses (mm applies)

    def score(self, doc: Document, stats: Stats) -> float | None:
        total = 0.0
        for clause in self.must:
            score = clause.score(doc, stats)
            if score is None:
                return None
            total += score
        if any(clause.score(doc, stats) is not None for clause in self.must_not):
            return None
        matched = 0
        for clause in self.should:
            score = clause.score(doc, stats)
            if score is not None:
                matched += 1
                total += score
        # Lucene: without required clauses at least one optional one must match.
        needed = self.min_should or (0 if self.must else 1)
        return total if matched >= needed else None


@dataclass
class DisMax(Query):
    disjuncts: list[Query]
    tie: float

    def score(self, doc: Document, stats: Stats) -> float | None:
        scores = [s for s in (q.score(doc, stats) for q in self.disjuncts) if s is not None]
        if not scores:
            return None
        best = max(scores)
        return best + self.tie * (sum(scores) - best)


@dataclass
class Boost(Query):
    query: Query
    factor: float

    def score(self, doc: Document, stats: Stats) -> float | None:
        score = self.query.score(doc, stats)
        return None if score is None else score * self.factor


def min_should_match(optional: int, spec: str) -> int:
    """Port of Solr's SolrPluginUtils.calculateMinShouldMatch (the mm param)."""
    spec = spec.strip()
    if "<" in spec:
        # Conditional form "2<-1 5<80%": the last condition whose upper
        # bound is below the clause count wins.
        result = optional
        for condition in spec.replace(" <", "<").replace("< ", "<").split():
            bound, _, sub_spec = condition.partition("<")
            if optional <= int(bound):
                return result
            result = min_should_match(optional, sub_spec)
        return result
    try:
        if spec.endswith("%"):
            calc = optional * int(spec[:-1]) / 100
            result = optional + int(calc) if calc < 0 else int(calc)
        else:
            calc = int(spec)
            result = optional + calc if calc < 0 else calc
    except ValueError:
        raise BadRequest(f"Invalid 'mm' spec: '{spec}'") from None
    return min(optional, max(result, 0))


_DISMAX_ESCAPED = frozenset('\\!():^[]{}~*?/')


def dismax_escape(text: str) -> str:
    """Pre-process input as Solr's DisMaxQParser does before parsing it.

    It drops unbalanced quotes, escapes syntax characters other than + - and
    quotes, and removes runs of two or more +/- operators (and dangling
    ones) that follow whitespace.  What is left can still be a syntax error
    (e.g. a leading "--x"), which Solr reports too.
    """
    if text.count('"') % 2:
        text = text.replace('"', "")
    words = "".join("\\" + c if c in _DISMAX_ESCAPED else c for c in text).split()
    out, i = words[:1], 1
    while i < len(words):
        operators, j = 0, i
        while j < len(words) and not words[j].strip("+-"):
            operators, j = operators + len(words[j]), j + 1
        if j == len(words):
            break  # operators dangling at the end
        lead = len(words[j]) - len(words[j].lstrip("+-"))
        out.extend([words[j][lead:]] if operators + lead >= 2 else words[i:j + 1])
        i = j + 1
    return " ".join(out)


def _glob_matcher(pattern: str) -> Callable[[str], bool]:
    """Match Lucene wildcards (``*``, ``?``; backslash escapes) without regex."""
    parts: list[str | None] = []  # None = '*', '' = '?', else one literal char
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(next(chars, "\\"))
        else:
            parts.append(None if char == "*" else "" if char == "?" else char)

    def matches(text: str) -> bool:
        # Classic dynamic programme over (pattern prefix, text prefix).
        reachable = [True] + [False] * len(text)
        for part in parts:
            if part is None:
                for i in range(1, len(text) + 1):
                    reachable[i] = reachable[i] or reachable[i - 1]
            else:
                reachable = [False] + [reachable[i] and (part == "" or text[i] == part)
                                       for i in range(len(text))]
        return reachable[-1]
    return matches


class QueryBuilder:
    """Build Query objects from query strings for one request."""

    def __init__(self, schema: Schema, now: datetime, df: str | None = None,
                 q_op: str = "OR", qf: str = "", mm: str | None = None, tie: float = 0.0) -> None:
        self.schema = schema
        self.now = now
        self.df = df
        self.q_op = q_op.upper()
        self.qf = [(name, float(boost or 1)) for name, _, boost in
                   (spec.partition("^") for spec in qf.split())]
        self.mm = mm
        self.tie = tie
        self.dismax = False

    # -- entry points ------------------------------------------------------
    def lucene(self, text: str) -> Query:
        """Parse with the standard (lucene) parser; used for q, fq and deletes."""
        self.dismax = False
        return self._top_level(self._node(self._parse(text), None))

    def dismax_query(self, text: str, edismax: bool) -> Query:
        """Parse user input with (e)dismax: unfielded terms search the qf fields."""
        self.dismax = True
        if not self.qf:
            self.qf = [(self.df, 1.0)] if self.df else []
        try:
            query = self._node(self._parse(text if edismax else dismax_escape(text)), None)
        except BadRequest:
            if not edismax:
                raise
            # edismax re-reads input it cannot parse as plain words, as Solr does.
            words = [self._unfielded(word, phrase=False) for word in text.split()]
            query = Boolean(should=[w for w in words if w is not None], implicit=True)
        mm = self.mm or ("100%" if not edismax or self.q_op == "AND" else "0%")
        if isinstance(query, Boolean) and query.implicit:
            query.min_should = min_should_match(len(query.should), mm)
        return self._top_level(query)

    @staticmethod
    def _parse(text: str) -> tree.Item:
        try:
            return parse(text)
        except (ParseError, RecursionError) as exc:
            raise BadRequest(f"org.apache.solr.search.SyntaxError: Cannot parse '{text}': {exc}") from None

    @staticmethod
    def _top_level(query: Query | None) -> Query:
        # Solr lets a whole query (or filter) be purely negative: "-a" means
        # "everything except a".  Nested pure negatives match nothing.
        if query is None:
            return Boolean()  # analysed to nothing: matches no document
        if isinstance(query, Boolean) and query.must_not and not query.must and not query.should:
            query.must.append(MatchAll())
        return query

    # -- tree walking ------------------------------------------------------
    def _node(self, node: tree.Item, field_name: str | None) -> Query | None:
        if isinstance(node, tree.SearchField):
            if field_name is not None:
                raise BadRequest(f"org.apache.solr.search.SyntaxError: nested field in '{node}'")
            if node.name == "*" and isinstance(node.expr, tree.Word) and node.expr.value == "*":
                return MatchAll()
            return self._node(node.expr, node.name)
        if isinstance(node, (tree.Group, tree.FieldGroup)):
            return self._node(node.expr, field_name)
        if isinstance(node, tree.Boost):
            inner = self._node(node.expr, field_name)
            return None if inner is None else Boost(inner, float(node.force or 1))
        if isinstance(node, (tree.AndOperation, tree.OrOperation, tree.UnknownOperation)):
            return self._boolean(node, field_name)
        if isinstance(node, (tree.Plus, tree.Not, tree.Prohibit)):
            return self._boolean(tree.UnknownOperation(node), field_name)
        if isinstance(node, tree.Range):
            return self._range(self._field(field_name), node)
        if isinstance(node, tree.Proximity) and isinstance(node.term, tree.Phrase):
            return self._text(field_name, node.term.unescaped_value[1:-1], True, int(node.degree or 0))
        if isinstance(node, tree.Phrase):
            return self._text(field_name, node.unescaped_value[1:-1], True)
        if isinstance(node, tree.Word):
            if node.value == "*" or node.has_wildcard():
                return self._wildcard(field_name, node.value)
            return self._text(field_name, node.unescaped_value, False)
        # Fuzzy (a~1), regex (/a.*/) and open ranges (>a) are left out.
        raise BadRequest(f"'{node}': this syntax is not supported by the Solr stand-in")

    def _boolean(self, node: tree.BaseOperation, field_name: str | None) -> Query | None:
        implicit = isinstance(node, tree.UnknownOperation)
        if isinstance(node, tree.AndOperation) or (implicit and self.q_op == "AND" and not self.dismax):
            default = "must"
        else:
            default = "should"
        query = Boolean(implicit=implicit)
        for operand in node.children:
            occur = default
            if isinstance(operand, (tree.Plus, tree.Not, tree.Prohibit)):
                occur = "must" if isinstance(operand, tree.Plus) else "must_not"
                operand = operand.a
                if isinstance(operand, (tree.Plus, tree.Not, tree.Prohibit)):
                    # luqum accepts "--x"; Lucene allows one modifier per clause.
                    raise BadRequest(f"org.apache.solr.search.SyntaxError: Cannot parse '{node}': "
                                     "more than one operator on a clause")
            clause = self._node(operand, field_name)
            if clause is not None:
                getattr(query, occur).append(clause)
        clauses = query.must + query.should + query.must_not
        if not clauses:
            return None
        if len(clauses) == 1 and not query.must_not and not (implicit and self.dismax):
            return clauses[0]  # a lone required/optional clause is just itself
        return query

    def _field(self, name: str | None) -> SchemaField:
        if name is None:
            if self.dismax:
                raise BadRequest("range queries need a field in dismax")
            if not self.df:
                raise BadRequest("no field name specified in query and no default specified via 'df' param")
            name = self.df
        return self.schema.require(name)

    def _unfielded(self, text: str, phrase: bool, slop: int = 0) -> Query | None:
        """An unfielded term in dismax: the best match over the qf fields."""
        disjuncts = []
        for name, boost in self.qf:
            query = self._field_text(self.schema.require(name), text, phrase, slop)
            if query is not None:
                disjuncts.append(query if boost == 1 else Boost(query, boost))
        return DisMax(disjuncts, self.tie) if disjuncts else None

    def _text(self, field_name: str | None, text: str, phrase: bool, slop: int = 0) -> Query | None:
        if field_name is None and self.dismax:
            return self._unfielded(text, phrase, slop)
        return self._field_text(self._field(field_name), text, phrase, slop)

    def _field_text(self, schema_field: SchemaField, text: str, phrase: bool, slop: int) -> Query | None:
        """A term or phrase against one field, analysed for that field."""
        if schema_field.kind != "text":
            return Term(schema_field.name, self._exact_key(schema_field, text), False)
        analyzer = schema_field.type.query_analyzer
        assert analyzer is not None
        tokens = analyzer.analyze(text)
        if not tokens:
            return None  # e.g. only punctuation: Solr drops the clause
        if len(tokens) == 1:
            return Term(schema_field.name, tokens[0][0], True)
        if phrase:
            first = tokens[0][1]
            return Phrase(schema_field.name, [(t, p - first) for t, p in tokens], slop)
        # One word split into several tokens ("wi-fi"): all parts must match
        # under q.op=AND (and in dismax), like Solr without autoGeneratePhraseQueries.
        terms: list[Query] = [Term(schema_field.name, t, True) for t, _ in tokens]
        if self.q_op == "AND" or self.dismax:
            return Boolean(must=terms)
        return Boolean(should=terms)

    def _exact_key(self, schema_field: SchemaField, text: str) -> str:
        try:
            if schema_field.kind == "date":
                return schema_field.key(resolve(text, self.now))
            return schema_field.key(schema_field.to_value(text))
        except ValueError as exc:
            raise BadRequest(f"Invalid value for field {schema_field.name}: {exc}") from None

    def _wildcard(self, field_name: str | None, pattern: str) -> Query | None:
        if field_name is None and self.dismax:
            disjuncts = [q for q in (self._wildcard(name, pattern) for name, _ in self.qf) if q]
            return DisMax(disjuncts, self.tie) if disjuncts else None
        schema_field = self._field(field_name)
        if pattern == "*":  # field:* means "has any value"
            return Predicate(schema_field.name, lambda v: True, True)
        text = schema_field.kind == "text"
        if text:
            analyzer = schema_field.type.query_analyzer
            assert analyzer is not None
            pattern = analyzer.normalize(pattern)
        matcher = _glob_matcher(pattern)
        return Predicate(schema_field.name, lambda v: matcher(str(v)), text)

    def _bound(self, schema_field: SchemaField, item: tree.Term) -> Value | None:
        value = item.unescaped_value
        if isinstance(item, tree.Phrase):
            value = value[1:-1]
        elif value == "*":
            return None
        try:
            if schema_field.kind == "date":
                return resolve(value, self.now)
            if schema_field.kind == "text" and schema_field.type.query_analyzer:
                return schema_field.type.query_analyzer.normalize(value)
            return schema_field.to_value(value)
        except ValueError as exc:
            raise BadRequest(f"Invalid range bound for field {schema_field.name}: {exc}") from None

    def _range(self, schema_field: SchemaField, node: tree.Range) -> Query:
        low, high = self._bound(schema_field, node.low), self._bound(schema_field, node.high)
        include_low, include_high = node.include_low, node.include_high

        def test(value: Value) -> bool:
            if low is not None and (value < low or (value == low and not include_low)):  # type: ignore[operator]
                return False
            return high is None or value < high or (value == high and include_high)  # type: ignore[operator]
        return Predicate(schema_field.name, test, schema_field.kind == "text")
