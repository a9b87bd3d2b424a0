"""The in-memory index: updates, persistence, and the /select request logic."""
from __future__ import annotations

import fnmatch
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .dates import format_date
from .document import Document, Stats, build_document
from .query import Query, QueryBuilder
from .schema import BadRequest, Schema, Value

_TRUE = ("true", "on", "yes")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Params:
    """Request parameters; Solr reads the first value of single-valued ones."""

    def __init__(self, data: Mapping[str, list[str]]) -> None:
        self.data = dict(data)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.data.get(name)
        return values[0] if values else default

    def get_list(self, name: str) -> list[str]:
        return list(self.data.get(name, []))

    def get_int(self, name: str, default: int, field: str | None = None) -> int:
        """An integer parameter; with ``field``, ``f.<field>.<name>`` wins."""
        value = (self.get(f"f.{field}.{name}") if field else None) or self.get(name)
        try:
            return default if value is None else int(value)
        except ValueError:
            raise BadRequest(f"For input string: \"{value}\"") from None

    def echo(self) -> dict[str, Any]:
        return {k: v[0] if len(v) == 1 else v for k, v in self.data.items()}


class Index:
    """Documents by uniqueKey, in index order, guarded by one lock.

    Visibility is deliberately simpler than Solr's: an added or deleted
    document is visible to searches at once, commit or not.  Callers that
    commit (CKAN does) see no difference; a commit only persists the index
    to ``data_path`` when one is set.
    """

    def __init__(self, schema: Schema, data_path: Path | None = None) -> None:
        self.schema = schema
        self.data_path = data_path
        self.lock = threading.RLock()
        self.docs: dict[str, Document] = {}
        self.stats = Stats()
        self._last_version = 0
        if data_path is not None and data_path.exists():
            saved = json.loads(data_path.read_text(encoding="utf-8"))
            for source in saved["docs"]:
                self.add(source, new_version=False)

    def __len__(self) -> int:
        return len(self.docs)

    # -- updates -------------------------------------------------------------
    def add(self, source: Mapping[str, list[object]], new_version: bool = True) -> None:
        """Add or overwrite (by uniqueKey) one document given as field -> values."""
        fields = {name: list(values) for name, values in source.items()}
        if new_version and "_version_" in self.schema.fields:
            # Solr stamps every add with a growing, time-based version.
            self._last_version = max(self._last_version + 1, time.time_ns() // 1_000_000 << 20)
            fields["_version_"] = [str(self._last_version)]
        doc = build_document(self.schema, fields, datetime.now(timezone.utc))
        with self.lock:
            self._remove(doc.key)
            self.docs[doc.key] = doc
            self.stats.update(doc, 1)

    def _remove(self, key: str) -> None:
        old = self.docs.pop(key, None)
        if old is not None:
            self.stats.update(old, -1)

    def delete_ids(self, keys: Iterable[str]) -> None:
        with self.lock:
            for key in keys:
                self._remove(key)

    def delete_query(self, text: str, params: Params) -> None:
        query = self._builder(params).lucene(text)
        with self.lock:
            for key in [d.key for d in self.docs.values() if query.score(d, self.stats) is not None]:
                self._remove(key)

    def commit(self) -> None:
        """Persist atomically (temp file + rename) when a data file is configured."""
        if self.data_path is None:
            return
        with self.lock:
            payload = {"format": "solr_standin/1", "schema": self.schema.name,
                       "docs": [doc.source for doc in self.docs.values()]}
            temp = self.data_path.with_name(f".{self.data_path.name}.{os.getpid()}.tmp")
            with open(temp, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, ensure_ascii=False)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.data_path)

    # -- search --------------------------------------------------------------
    def _builder(self, params: Params) -> QueryBuilder:
        now = params.get_int("NOW", 0)  # Solr's override of NOW, in epoch milliseconds
        moment = datetime.fromtimestamp(now / 1000, timezone.utc) if now else datetime.now(timezone.utc)
        try:
            tie = float(params.get("tie", "0") or 0)
        except ValueError:
            raise BadRequest(f"For input string: \"{params.get('tie')}\"") from None
        return QueryBuilder(self.schema, moment, df=params.get("df"), q_op=params.get("q.op", "OR") or "OR",
                            qf=params.get("qf", "") or "", mm=params.get("mm"), tie=tie)

    def _main_query(self, params: Params) -> Query | None:
        q = params.get("q")
        def_type = params.get("defType", "lucene")
        if def_type not in ("lucene", "standard", "dismax", "edismax"):
            raise BadRequest(f"Unknown query parser '{def_type}'")
        if q is None or not q.strip():
            return None  # Solr matches nothing without a query (no q.alt here)
        if def_type in ("dismax", "edismax"):
            return self._builder(params).dismax_query(q, def_type == "edismax")
        return self._builder(params).lucene(q)

    def search(self, params: Params) -> dict[str, Any]:
        start, rows = params.get_int("start", 0), params.get_int("rows", 10)
        if start < 0 or rows < 0:
            raise BadRequest("'start' and 'rows' must not be negative")
        sort = self._parse_sort(params.get("sort") or "score desc")
        main = self._main_query(params)
        filters = [self._builder(params).lucene(fq) for fq in params.get_list("fq") if fq.strip()]
        with self.lock:
            hits: list[tuple[Document, float]] = []
            if main is not None:
                for doc in self.docs.values():
                    if all(f.score(doc, self.stats) is not None for f in filters):
                        score = main.score(doc, self.stats)
                        if score is not None:
                            hits.append((doc, score))
            # Stable sorts applied from the last clause to the first give a
            # multi-key order whose final tie-break is index order, as Lucene.
            for name, descending in reversed(sort):
                hits.sort(key=lambda hit: self._sort_key(hit, name, descending), reverse=descending)
            fl = self._parse_fl(params.get("fl"))
            response: dict[str, Any] = {
                "numFound": len(hits), "start": start, "numFoundExact": True,
                "docs": [self._render(doc, score, fl) for doc, score in hits[start:start + rows]]}
            if "score" in fl:
                response["maxScore"] = max((s for _, s in hits), default=0.0)
            result: dict[str, Any] = {"response": response}
            if (params.get("facet") or "").lower() in _TRUE:
                result["facet_counts"] = self._facets(params, [doc for doc, _ in hits])
        return result

    def _parse_sort(self, spec: str) -> list[tuple[str, bool]]:
        clauses = []
        for clause in spec.split(","):
            words = clause.split()
            if len(words) != 2 or words[1].lower() not in ("asc", "desc"):
                raise BadRequest(f"Can't determine a Sort Order (asc or desc) in sort spec '{spec}'")
            name = words[0]
            if name != "score":
                schema_field = self.schema.field(name)
                if schema_field is None:
                    raise BadRequest(f"sort param field can't be found: {name}")
                if schema_field.multi_valued or not schema_field.indexed:
                    raise BadRequest(f"can not sort on multivalued or unindexed field: {name}")
            clauses.append((name, words[1].lower() == "desc"))
        return clauses

    def _sort_key(self, hit: tuple[Document, float], name: str, descending: bool) -> tuple[Any, ...]:
        doc, score = hit
        if name == "score":
            return (score,)
        schema_field = self.schema.require(name)
        if schema_field.kind == "text":
            terms = doc.terms.get(name)  # Solr sorts text on its smallest term
            value: Value | None = min(terms) if terms else None
        else:
            values = doc.values.get(name)
            value = values[0] if values else None
        if value is not None:
            return (1, value)
        # A missing value sorts as the type says: sortMissingLast/First, or
        # as zero for numbers and dates, or lowest for strings (Lucene).
        if schema_field.sort_missing is not None:
            last = schema_field.sort_missing == "last"
            return (2,) if last != descending else (0,)
        if schema_field.kind in ("int", "float"):
            return (1, 0)
        if schema_field.kind == "date":
            return (1, _EPOCH)
        return (0,)

    def _parse_fl(self, fl: str | None) -> list[str]:
        names = (fl or "*").replace(",", " ").split()
        return names or ["*"]

    def _render(self, doc: Document, score: float, fl: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, values in doc.stored.items():
            if any(pattern == name or fnmatch.fnmatchcase(name, pattern) for pattern in fl):
                shown = [format_date(v) if isinstance(v, datetime) else v for v in values]
                out[name] = shown if self.schema.require(name).multi_valued else shown[0]
        if "score" in fl:
            out["score"] = score
        return out

    def _facets(self, params: Params, docs: list[Document]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name in params.get_list("facet.field"):
            self.schema.require(name)
            counts: Counter[str] = Counter()
            for doc in docs:
                counts.update(doc.terms.get(name, {}).keys())
            mincount = params.get_int("facet.mincount", 0, name)
            if mincount <= 0:  # Solr then lists every indexed term, even at 0
                for doc in self.docs.values():
                    for term in doc.terms.get(name, {}):
                        counts.setdefault(term, 0)
            limit = params.get_int("facet.limit", 100, name)
            offset = params.get_int("facet.offset", 0, name)
            by_count = (params.get(f"f.{name}.facet.sort") or params.get("facet.sort")
                        or ("count" if limit > 0 else "index")) == "count"
            items = sorted(((t, c) for t, c in counts.items() if c >= mincount),
                           key=(lambda tc: (-tc[1], tc[0])) if by_count else (lambda tc: tc[0]))
            items = items[offset:offset + limit] if limit >= 0 else items[offset:]
            # json.nl=flat (the default) is the [term, count, term, count...]
            # list pysolr and CKAN expect; "map" gives an object instead.
            fields[name] = dict(items) if params.get("json.nl") == "map" else [x for i in items for x in i]
        return {"facet_queries": {}, "facet_fields": fields, "facet_ranges": {},
                "facet_intervals": {}, "facet_heatmaps": {}}
