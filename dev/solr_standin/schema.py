"""Load a Solr schema.xml (by default the one shipped with the installed CKAN).

Only what changes behaviour is kept: field types (mapped to a handful of
value kinds plus their analyzers), fields, dynamic fields, copyFields and
the uniqueKey.
"""
from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from .analysis import Analyzer, build_analyzer
from .dates import format_date, parse_date

Kind = Literal["string", "text", "bool", "int", "float", "date", "binary"]
Value = str | bool | int | float | datetime

# Solr field type classes (old Trie* and new *Point* spellings) by value kind.
_KINDS: dict[str, Kind] = {
    "StrField": "string", "TextField": "text", "BoolField": "bool",
    "IntPointField": "int", "LongPointField": "int", "TrieIntField": "int",
    "TrieLongField": "int", "FloatPointField": "float", "DoublePointField": "float",
    "TrieFloatField": "float", "TrieDoubleField": "float", "DatePointField": "date",
    "TrieDateField": "date", "BinaryField": "binary",
}


class BadRequest(Exception):
    """An error Solr reports to the client as HTTP 400 (or ``code``)."""

    def __init__(self, msg: str, code: int = 400) -> None:
        super().__init__(msg)
        self.msg = msg
        self.code = code


@dataclass(frozen=True)
class FieldType:
    name: str
    kind: Kind
    index_analyzer: Analyzer | None
    query_analyzer: Analyzer | None


@dataclass(frozen=True)
class SchemaField:
    name: str
    type: FieldType
    indexed: bool
    stored: bool
    multi_valued: bool
    required: bool
    default: str | None
    sort_missing: Literal["first", "last"] | None

    @property
    def kind(self) -> Kind:
        return self.type.kind

    def to_value(self, raw: object) -> Value:
        """Convert an incoming (XML text or JSON) value to its typed form."""
        kind = self.kind
        text = raw if isinstance(raw, str) else ("true" if raw is True else "false" if raw is False else str(raw))
        try:
            if kind == "bool":
                return text[:1] in ("t", "T", "1")  # Solr's BoolField rule
            if kind == "int":
                return int(text.strip())
            if kind == "float":
                return float(text.strip())
            if kind == "date":
                return parse_date(text.strip())
        except ValueError as exc:
            reason = str(exc) if kind == "date" else f"For input string: \"{text}\""
            raise ValueError(reason) from None
        return text

    @staticmethod
    def key(value: Value) -> str:
        """The indexed term / facet label of a non-text value."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, datetime):
            return format_date(value)
        return str(value)


def default_schema_path() -> Path:
    """The schema.xml of the installed CKAN package."""
    spec = importlib.util.find_spec("ckan")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("CKAN is not installed; pass --schema")
    return Path(next(iter(spec.submodule_search_locations))) / "config" / "solr" / "schema.xml"


def _flag(attrs: dict[str, str], name: str, default: bool) -> bool:
    return attrs[name].lower() == "true" if name in attrs else default


class Schema:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw_xml = path.read_bytes()
        root = ET.fromstring(self.raw_xml)
        self.name = root.get("name", "")
        self.types: dict[str, FieldType] = {}
        type_attrs: dict[str, dict[str, str]] = {}
        for element in root.iter():
            if element.tag.lower() == "fieldtype":
                self.types[element.get("name", "")] = self._load_type(element, path.parent)
                type_attrs[element.get("name", "")] = dict(element.attrib)
        self.fields: dict[str, SchemaField] = {}
        # Dynamic fields are tried longest pattern first, as Solr does.
        self.dynamic: list[tuple[str, SchemaField]] = []
        for element in root.iter():
            if element.tag in ("field", "dynamicField"):
                attrs = {**type_attrs[element.get("type", "")], **element.attrib}
                missing: Literal["first", "last"] | None = (
                    "last" if _flag(attrs, "sortMissingLast", False)
                    else "first" if _flag(attrs, "sortMissingFirst", False) else None)
                field = SchemaField(
                    name=attrs["name"], type=self.types[element.get("type", "")],
                    indexed=_flag(attrs, "indexed", True), stored=_flag(attrs, "stored", True),
                    multi_valued=_flag(attrs, "multiValued", False),
                    required=_flag(attrs, "required", False), default=attrs.get("default"),
                    sort_missing=missing)
                if element.tag == "field":
                    self.fields[field.name] = field
                else:
                    self.dynamic.append((field.name, field))
        self.dynamic.sort(key=lambda item: -len(item[0]))
        self.copy_fields = [(e.get("source", ""), e.get("dest", "")) for e in root.iter("copyField")]
        key = root.find("uniqueKey")
        self.unique_key = key.text.strip() if key is not None and key.text else "id"

    @staticmethod
    def _load_type(element: ET.Element, base: Path) -> FieldType:
        cls = element.get("class", "").rsplit(".", 1)[-1]
        kind = _KINDS.get(cls, "string")
        analyzers: dict[str, Analyzer] = {}
        for analyzer in element.findall("analyzer"):
            tokenizer = analyzer.find("tokenizer")
            built = build_analyzer(dict(tokenizer.attrib) if tokenizer is not None else {},
                                   [dict(f.attrib) for f in analyzer.findall("filter")], base)
            role = analyzer.get("type")
            if role in (None, "index"):
                analyzers["index"] = built
            if role in (None, "query"):
                analyzers["query"] = built
        if kind == "text" and not analyzers:
            analyzers["index"] = analyzers["query"] = build_analyzer({}, [], base)
        return FieldType(element.get("name", ""), kind, analyzers.get("index"),
                         analyzers.get("query", analyzers.get("index")))

    @staticmethod
    def _glob(pattern: str, name: str) -> bool:
        """Solr field globs have one ``*``, at the start or at the end."""
        if pattern == "*":
            return True
        if pattern.startswith("*"):
            return name.endswith(pattern[1:])
        if pattern.endswith("*"):
            return name.startswith(pattern[:-1])
        return pattern == name

    def field(self, name: str) -> SchemaField | None:
        if name in self.fields:
            return self.fields[name]
        for pattern, template in self.dynamic:
            if self._glob(pattern, name):
                return replace(template, name=name)
        return None

    def require(self, name: str) -> SchemaField:
        field = self.field(name)
        if field is None:
            raise BadRequest(f"undefined field {name}")
        return field

    def copy_targets(self, name: str) -> list[str]:
        return [dest for source, dest in self.copy_fields
                if dest != name and self._glob(source, name)]
