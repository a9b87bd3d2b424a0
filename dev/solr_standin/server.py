"""HTTP front end: Solr's URL layout, update message formats and JSON replies."""
from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .index import Index, Params
from .schema import BadRequest, Schema, default_schema_path

log = logging.getLogger("solr_standin")

_SCHEMA_FILES = ("schema.xml", "managed-schema", "managed-schema.xml")


class _JsonObject(list):  # type: ignore[type-arg]
    """A JSON object kept as (key, value) pairs: Solr's JSON update syntax
    repeats keys ({"add": ..., "add": ...}), which a dict would lose."""


def _json_doc(pairs: Any) -> dict[str, list[object]]:
    if not isinstance(pairs, _JsonObject):
        raise BadRequest("Expected a JSON object for a document")
    fields: dict[str, list[object]] = {}
    for name, value in pairs:
        if isinstance(value, _JsonObject):
            raise BadRequest(f"field '{name}': atomic updates and child documents are not supported")
        values = [v for v in (value if isinstance(value, list) else [value]) if v is not None]
        if values:  # Solr skips nulls and empty lists
            fields.setdefault(name, []).extend(values)
    return fields


def _apply_json(index: Index, text: str, params: Params) -> bool:
    """Apply a JSON update body; return whether it asked for a commit."""
    try:
        data = json.loads(text, object_pairs_hook=_JsonObject)
    except ValueError as exc:
        raise BadRequest(f"Cannot parse provided JSON: {exc}") from None
    if not isinstance(data, _JsonObject):  # a bare list of documents
        for doc in data if isinstance(data, list) else [data]:
            index.add(_json_doc(doc))
        return False
    commit = False
    for command, value in data:
        if command == "add":
            spec = dict(value) if isinstance(value, _JsonObject) else {}
            index.add(_json_doc(spec.get("doc")))
            commit |= "commitWithin" in spec
        elif command == "delete":
            plain_list = isinstance(value, list) and not isinstance(value, _JsonObject)
            for target in value if plain_list else [value]:
                if isinstance(target, _JsonObject):
                    spec = dict(target)
                    if "query" in spec:
                        index.delete_query(str(spec["query"]), params)
                    elif "id" in spec:
                        index.delete_ids([str(spec["id"])])
                else:
                    index.delete_ids([str(target)])
        elif command in ("commit", "optimize"):
            commit = True
        else:
            raise BadRequest(f"Unknown command '{command}'")
    return commit


def _apply_xml(index: Index, text: str, params: Params) -> bool:
    """Apply an XML update body (pysolr's format); return whether to commit."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise BadRequest(f"Unexpected XML: {exc}") from None
    commit = False
    for command in list(root) if root.tag == "update" else [root]:
        if command.tag == "add":
            for element in command.findall("doc"):
                fields: dict[str, list[object]] = {}
                for field in element:
                    if field.tag != "field" or field.get("update"):
                        raise BadRequest("atomic updates and child documents are not supported")
                    if field.get("null") != "true":
                        fields.setdefault(field.get("name", ""), []).append(field.text or "")
                index.add(fields)
            commit |= command.get("commitWithin") is not None
        elif command.tag == "delete":
            index.delete_ids([(e.text or "").strip() for e in command.findall("id")])
            for element in command.findall("query"):
                index.delete_query(element.text or "", params)
        elif command.tag in ("commit", "optimize"):
            commit = True
        else:
            raise BadRequest(f"Unexpected XML tag /{command.tag}")
    return commit


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], index: Index, core: str) -> None:
        self.host = address[0]
        self.index = index
        self.core = core
        super().__init__(address, RequestHandler)


class RequestHandler(BaseHTTPRequestHandler):
    server: StandinServer
    server_version = "SolrStandin/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        self._handle(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _handle(self, body: bytes) -> None:
        started = time.monotonic()
        url = urlsplit(self.path)
        params = Params(parse_qs(url.query, keep_blank_values=True))
        prefix = f"/solr/{self.server.core}/"
        action = url.path[len(prefix):].strip("/") if url.path.startswith(prefix) else None
        try:
            if action == "select":
                if "x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
                    # pysolr POSTs /select as a form once the URL gets long.
                    for name, values in parse_qs(body.decode("utf-8"), keep_blank_values=True).items():
                        params.data.setdefault(name, []).extend(values)
                result = self.server.index.search(params)
                self._json(200, {"responseHeader": self._header(0, started, params), **result})
            elif action in ("update", "update/json", "update/xml"):
                self._update(body.decode("utf-8"), params)
                self._json(200, {"responseHeader": self._header(0, started)})
            elif action == "admin/ping":
                self._json(200, {"responseHeader": self._header(0, started, params), "status": "OK"})
            elif (action == "schema" and params.get("wt") == "schema.xml") or (
                    action == "admin/file" and params.get("file") in _SCHEMA_FILES):
                self._send(200, "application/xml; charset=UTF-8", self.server.index.schema.raw_xml)
            else:
                raise BadRequest(f"Not found: {url.path}", 404)
        except BadRequest as exc:
            self._error(exc.code, exc.msg, started, params)
        except UnicodeDecodeError as exc:
            self._error(400, f"Invalid UTF-8 in request body: {exc}", started, params)
        except Exception as exc:  # a bug here must still answer like Solr
            log.exception("request failed: %s", self.path)
            self._error(500, f"{type(exc).__name__}: {exc}", started, params)

    def _update(self, text: str, params: Params) -> None:
        commit = any((params.get(name) or "").lower() == "true" for name in ("commit", "softCommit"))
        commit |= params.get("commitWithin") is not None
        body = text.lstrip()
        if body.startswith("<"):
            commit |= _apply_xml(self.server.index, body, params)
        elif body:
            commit |= _apply_json(self.server.index, body, params)
        if commit:
            self.server.index.commit()

    @staticmethod
    def _header(status: int, started: float, params: Params | None = None) -> dict[str, Any]:
        header: dict[str, Any] = {"status": status, "QTime": int((time.monotonic() - started) * 1000)}
        if params is not None:
            header["params"] = params.echo()
        return header

    def _error(self, code: int, msg: str, started: float, params: Params) -> None:
        self._json(code, {"responseHeader": self._header(code, started, params),
                          "error": {"metadata": ["error-class", "org.apache.solr.common.SolrException",
                                                 "root-error-class", "org.apache.solr.common.SolrException"],
                                    "msg": msg, "code": code}})

    def _json(self, code: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send(code, "application/json;charset=utf-8", body)

    def _send(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(host: str = "127.0.0.1", port: int = 8983, core: str = "ckan",
                data_path: str | Path | None = None, schema_path: str | Path | None = None,
                allow_remote: bool = False) -> StandinServer:
    """Load the schema (and saved index), bind, and return an unstarted server."""
    if not allow_remote and not is_loopback(host):
        raise ValueError(f"refusing to listen on non-loopback host {host!r} (use allow_remote)")
    schema = Schema(Path(schema_path) if schema_path else default_schema_path())
    index = Index(schema, Path(data_path) if data_path else None)
    return StandinServer((host, port), index, core)


@dataclass
class Handle:
    """A stand-in running in a background thread."""
    server: StandinServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.port}/solr/{self.server.core}"

    @property
    def index(self) -> Index:
        return self.server.index

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def serve_in_thread(host: str = "127.0.0.1", port: int = 0, core: str = "ckan",
                    data_path: str | Path | None = None,
                    schema_path: str | Path | None = None) -> Handle:
    """Start a stand-in on a daemon thread; ``port=0`` picks a free port."""
    server = make_server(host, port, core, data_path, schema_path)
    thread = threading.Thread(target=server.serve_forever, name="solr-standin", daemon=True)
    thread.start()
    return Handle(server, thread)
