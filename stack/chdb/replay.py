"""Replays a gpumeter statement log into chDB and compares every answer (issue 14).

    replay.py <log-dir>

<log-dir> holds the JSON lines ClickHouseService and the migrator wrote with
CLICKHOUSE_STATEMENT_LOG set (src/platform/clickhouse/statement-log.ts) while the service ran
against ClickHouse 18.16. Every statement is played, in the order it happened, into chDB (the
current ClickHouse engine, chdb-core 26.9, in process); every SELECT's answer is compared with
the one 18.16 gave. A SELECT that overlapped a write to its database is played but not compared:
its answer depended on timing. Prints a JSON summary; exits 1 on any difference or error.
"""
import bisect
import json
import os
import re
import sys
import tempfile

from chdb import session as chs

WRITES = ("command", "insert")


def load(log_dir):
    entries = []
    for name in sorted(os.listdir(log_dir)):
        if name.endswith(".jsonl"):
            with open(os.path.join(log_dir, name), encoding="utf-8") as f:
                entries.extend(json.loads(line) for line in f if line.strip())
    # A write takes effect when it ends, a read sees what was there when it started.
    entries.sort(key=lambda e: (e["end"] if e["kind"] in WRITES else e["start"], e["pid"], e["seq"]))
    return entries


def ordered(sql):
    """Whether the top level of a SELECT has ORDER BY (else rows compare as a multiset)."""
    depth = 0
    top = []
    for c in sql:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0:
            top.append(c)
    return re.search(r"\bORDER\s+BY\b", "".join(top), re.I) is not None


def rows_of(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main():
    log_dir = sys.argv[1]
    entries = load(log_dir)
    writes = {}
    for e in entries:
        if e["kind"] in WRITES:
            writes.setdefault(e["database"], []).append((e["start"], e["end"]))
    for spans in writes.values():
        spans.sort()
    starts = {db: [s for s, _ in spans] for db, spans in writes.items()}

    def overlaps(e):
        spans = writes.get(e["database"], [])
        i = bisect.bisect_right(starts.get(e["database"], []), e["end"])
        return any(end > e["start"] for _, end in spans[max(0, i - 200):i])

    summary = {"statements": len(entries), "queries": 0, "compared": 0, "concurrent": 0, "differences": [], "errors": []}
    with tempfile.TemporaryDirectory() as path:
        sess = chs.Session(path)
        sess.query("SET session_timezone = 'UTC'")
        current = None
        settings = {}
        for e in entries:
            db = e["database"]
            try:
                if db != current:
                    sess.query(f"CREATE DATABASE IF NOT EXISTS `{db}`")
                    sess.query(f"USE `{db}`")
                    current = db
                # The settings the service sent with the statement (its client's and its own).
                for name, value in (e.get("settings") or {}).items():
                    if value is None:
                        continue
                    literal = f"'{value}'" if isinstance(value, str) and not re.fullmatch(r"-?\d+", value) else value
                    if settings.get(name) != literal:
                        sess.query(f"SET {name} = {literal}")
                        settings[name] = literal
                kind = e["kind"]
                if kind == "command":
                    sess.query(e["sql"])
                elif kind == "insert":
                    body = "\n".join(json.dumps(r) for r in e["rows"])
                    sess.query(f"{e['sql']} FORMAT JSONEachRow\n{body}")
                else:
                    summary["queries"] += 1
                    if kind == "external_query":
                        x = e["external"]
                        sess.query(f"DROP TEMPORARY TABLE IF EXISTS {x['name']}")
                        sess.query(f"CREATE TEMPORARY TABLE {x['name']} ({x['structure']})")
                        if x["tsv"]:
                            sess.query(f"INSERT INTO {x['name']} FORMAT TabSeparated\n{x['tsv']}")
                    got = rows_of(str(sess.query(e["sql"], "JSONEachRow")))
                    if overlaps(e):
                        summary["concurrent"] += 1
                        continue
                    summary["compared"] += 1
                    want = e["result"]
                    if not ordered(e["sql"]):
                        got = sorted(got, key=lambda r: json.dumps(r, sort_keys=True))
                        want = sorted(want, key=lambda r: json.dumps(r, sort_keys=True))
                    if got != want:
                        summary["differences"].append({"sql": e["sql"][:2000], "clickhouse_18": want[:5], "chdb_26": got[:5], "rows": [len(want), len(got)]})
            except Exception as err:  # noqa: BLE001 — every failure is reported, none stops the replay
                summary["errors"].append({"kind": e["kind"], "sql": e["sql"][:2000], "error": str(err)[:1000]})
    summary["differences_count"] = len(summary["differences"])
    summary["errors_count"] = len(summary["errors"])
    summary["differences"] = summary["differences"][:20]
    summary["errors"] = summary["errors"][:20]
    print(json.dumps(summary, indent=1))
    sys.exit(1 if summary["differences_count"] or summary["errors_count"] else 0)


if __name__ == "__main__":
    main()
