"""Command line: ``PYTHONPATH=dev python -m solr_standin --port 8983``."""
from __future__ import annotations

import argparse
import logging
import sys

from .server import make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m solr_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8983)
    parser.add_argument("--core", default="ckan")
    parser.add_argument("--data", help="JSON file the index is saved to on commit and loaded from")
    parser.add_argument("--schema", help="schema.xml to use instead of the installed CKAN's")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow binding to a non-loopback address")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        server = make_server(args.host, args.port, args.core, args.data, args.schema, args.allow_remote)
    except (ValueError, OSError) as exc:
        print(f"solr_standin: {exc}", file=sys.stderr)
        return 2
    print(f"Solr stand-in serving http://{server.host}:{server.server_port}/solr/{args.core}",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
