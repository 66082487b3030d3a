#!/usr/bin/env python3
"""ClickHouse's HTTP interface in front of chDB, so the real sink (its
RowBinary inserts, its settings, its lookups, its row validation) runs
against the current ClickHouse engine in process: the store's integration
tests are run a second time through it (.ci/run).

Only what dmarcflow's client sends is served: a statement in the body (its
output format from `default_format`), or an INSERT named in the `query`
parameter with its rows in the body (`decompress=1`: ClickHouse's
compressed blocks, LZ4), the insert's settings as URL parameters. Errors
are answered 500 with the engine's message, as ClickHouse does. Statements
run one at a time (one chDB session).

usage: chdb_http.py PORT DATA_DIR
"""

import http.server
import os
import re
import sys
import tempfile
import threading
import urllib.parse

import lz4.block
from chdb import session

PORT = int(sys.argv[1])
DATA = sys.argv[2]
LOCK = threading.Lock()
SESSION = session.Session(os.path.join(DATA, "chdb"))
# URL parameters that are not settings.
NOT_SETTINGS = {"query", "database", "default_format", "decompress", "compress", "query_id", "session_id", "user", "password"}


def decompress(body):
    """ClickHouse's compressed blocks: checksum (16), method (1), compressed
    size with the 9-byte header (4), uncompressed size (4), data."""
    out = bytearray()
    at = 0
    while at < len(body):
        method = body[at + 16]
        size = int.from_bytes(body[at + 17:at + 21], "little")
        raw = int.from_bytes(body[at + 21:at + 25], "little")
        data = body[at + 25:at + 16 + size]
        if method == 0x82:
            out += lz4.block.decompress(data, uncompressed_size=raw)
        elif method == 0x02:
            out += data
        else:
            raise ValueError(f"compression method {method:#x} is not served here")
        at += 16 + size
    return bytes(out)


def quote(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def answer(self, status, payload):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self.answer(200, b"Ok.\n")

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        body = self.body()
        try:
            with LOCK:
                if params.get("database"):
                    SESSION.query(f"USE `{params['database']}`")
                else:
                    SESSION.query("USE default")
                payload = self.run(params, body)
            self.answer(200, payload)
        except Exception as e:  # the engine's error, as ClickHouse answers it
            self.answer(500, str(e).encode())

    def run(self, params, body):
        settings = [(k, v) for k, v in params.items() if k not in NOT_SETTINGS]
        insert = params.get("query")
        if os.environ.get("CHDB_HTTP_LOG"):
            print((insert or body.decode(errors="replace"))[:120].replace("\n", " "), params.get("default_format"), flush=True)
        if insert is None:
            sql = body.decode()
            fmt = params.get("default_format", "TabSeparated")
            return SESSION.query(sql, fmt).bytes()
        m = re.match(r"\s*INSERT INTO\s+(\S+?)\s*\((.*?)\)\s*FORMAT\s+(\w+)\s*$", insert, re.S)
        if not m:
            raise ValueError(f"not served here: {insert}")
        table, columns, fmt = m[1], m[2], m[3]
        data = decompress(body) if params.get("decompress") == "1" else body
        names = [c.strip().strip("`") for c in columns.split(",")]
        structure = ""
        if fmt == "RowBinary":
            table_name = table.strip("`").split(".")[-1]
            types = dict(
                line.split("\t")
                for line in str(
                    SESSION.query(
                        f"SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {quote(table_name)}",
                        "TabSeparatedRaw",
                    )
                ).splitlines()
            )
            structure = ", " + quote(", ".join(f"`{n}` {types[n]}" for n in names))
        with tempfile.NamedTemporaryFile(dir=DATA, suffix=".bin") as f:
            f.write(data)
            f.flush()
            with_settings = (" SETTINGS " + ", ".join(f"{k} = {quote(v)}" for k, v in settings)) if settings else ""
            SESSION.query(
                f"INSERT INTO {table} ({columns}){with_settings} "
                f"SELECT * FROM file({quote(f.name)}, {quote(fmt)}{structure})"
            )
        return b""


if __name__ == "__main__":
    os.makedirs(DATA, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print(f"chDB behind HTTP on 127.0.0.1:{PORT}", flush=True)
    server.serve_forever()
