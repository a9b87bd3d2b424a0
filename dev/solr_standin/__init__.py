"""A small Apache Solr stand-in for developing and testing CKAN without Solr.

It serves the HTTP subset CKAN (through pysolr) uses against the schema.xml
shipped with the installed CKAN.  Development and tests only.
"""
from .index import Index, Params
from .schema import BadRequest, Schema, default_schema_path
from .server import Handle, make_server, serve_in_thread

__all__ = ["BadRequest", "Handle", "Index", "Params", "Schema", "default_schema_path",
           "make_server", "serve_in_thread"]
