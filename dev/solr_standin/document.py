"""Turning an incoming document into its indexed form, plus corpus statistics."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from .schema import BadRequest, Schema, Value

# Lucene's default positionIncrementGap keeps phrases from matching across
# the values of a multi-valued field.
POSITION_GAP = 100


@dataclass
class Document:
    key: str
    source: dict[str, list[object]]  # the fields as received; persisted as is
    stored: dict[str, list[Value]] = field(default_factory=dict)
    # field -> term -> positions; for non-text fields the term is the value's
    # canonical string and the number of positions is its frequency.
    terms: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    values: dict[str, list[Value]] = field(default_factory=dict)  # typed, non-text
    lengths: dict[str, int] = field(default_factory=dict)  # tokens per field


def build_document(schema: Schema, source: dict[str, list[object]], now: datetime) -> Document:
    """Validate, apply defaults and copyFields, and analyse one document.

    Raises BadRequest with Solr's wording for the errors Solr reports on add.
    """
    key_values = source.get(schema.unique_key)
    if not key_values:
        raise BadRequest(f"Document is missing mandatory uniqueKey field: {schema.unique_key}")
    doc = Document(key=str(key_values[0]), source=source)
    raw: dict[str, list[object]] = {}
    for name, values in source.items():
        raw.setdefault(name, []).extend(values)
        # copyField is not transitive in Solr: copies are never copied again.
        for dest in schema.copy_targets(name):
            raw.setdefault(dest, []).extend(values)
    for name, declared in schema.fields.items():
        if name not in raw and declared.default is not None:
            raw[name] = [now.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if declared.default == "NOW"
                         and declared.kind == "date" else declared.default]
        if declared.required and not raw.get(name):
            raise BadRequest(f"[doc={doc.key}] missing required field: {name}")
    for name, values in raw.items():
        schema_field = schema.field(name)
        if schema_field is None:
            raise BadRequest(f"ERROR: [doc={doc.key}] unknown field '{name}'")
        if len(values) > 1 and not schema_field.multi_valued:
            listed = ", ".join(str(v) for v in values)
            raise BadRequest(f"ERROR: [doc={doc.key}] multiple values encountered for "
                             f"non multiValued field {name}: [{listed}]")
        typed: list[Value] = []
        for value in values:
            try:
                typed.append(schema_field.to_value(value))
            except ValueError as exc:
                raise BadRequest(f"ERROR: [doc={doc.key}] Error adding field "
                                 f"'{name}'='{value}' msg={exc}") from None
        if schema_field.stored:
            doc.stored[name] = typed
        if not schema_field.indexed or schema_field.kind == "binary":
            continue
        postings: dict[str, list[int]] = {}
        if schema_field.kind == "text":
            analyzer = schema_field.type.index_analyzer
            assert analyzer is not None
            offset = 0
            for value in typed:
                tokens = analyzer.analyze(str(value))
                for term, position in tokens:
                    postings.setdefault(term, []).append(offset + position)
                offset += (max(p for _, p in tokens) + 1 if tokens else 0) + POSITION_GAP
            doc.lengths[name] = sum(len(p) for p in postings.values())
        else:
            for value in typed:
                postings.setdefault(schema_field.key(value), []).append(0)
            doc.values[name] = typed
            doc.lengths[name] = len(typed)
        doc.terms[name] = postings
    return doc


class Stats:
    """Document frequencies and field lengths for BM25 scoring."""

    def __init__(self) -> None:
        self.doc_count = 0
        self.doc_freq: Counter[tuple[str, str]] = Counter()
        self.length_sum: Counter[str] = Counter()
        self.field_docs: Counter[str] = Counter()

    def update(self, doc: Document, sign: int) -> None:
        """Count ``doc`` in (sign=1) or out (sign=-1) of the statistics."""
        self.doc_count += sign
        for name, postings in doc.terms.items():
            self.field_docs[name] += sign
            self.length_sum[name] += sign * doc.lengths.get(name, 0)
            for term in postings:
                self.doc_freq[(name, term)] += sign

    def idf(self, name: str, term: str) -> float:
        freq = self.doc_freq[(name, term)]
        return math.log(1 + (self.doc_count - freq + 0.5) / (freq + 0.5))

    def avg_length(self, name: str) -> float:
        docs = self.field_docs[name]
        return self.length_sum[name] / docs if docs else 1.0
