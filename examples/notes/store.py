"""The notes' SQLite store. Every method blocks (sqlite3), so handlers call it through
`fastcore.to_thread`: the worker that read the request keeps serving others meanwhile.

Each thread of the pool keeps its own connection (sqlite3 connections belong to a thread); WAL
mode lets readers run while one writer writes.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    done INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_owner ON notes (owner, id);
"""
COLUMNS = "id, title, body, tags, done, created_at, updated_at"


class Store:
    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=10000")
            self._local.db = db
        return db

    def create_schema(self) -> None:
        self._db().executescript(SCHEMA)

    @staticmethod
    def _note(row: sqlite3.Row | None) -> dict[str, Any] | None:
        if row is None:
            return None
        note = dict(row)
        note["tags"] = json.loads(note["tags"])
        note["done"] = bool(note["done"])
        return note

    def add(self, owner: str, title: str, body: str, tags: list[str]) -> dict[str, Any]:
        now = time.time()
        row = self._db().execute(
            f"INSERT INTO notes (owner, title, body, tags, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            f"RETURNING {COLUMNS}", (owner, title, body, json.dumps(tags), now, now)).fetchone()
        return self._note(row)  # type: ignore[return-value]

    def get(self, owner: str, note_id: int) -> dict[str, Any] | None:
        row = self._db().execute(f"SELECT {COLUMNS} FROM notes WHERE owner = ? AND id = ?",
                                 (owner, note_id)).fetchone()
        return self._note(row)

    def search(self, owner: str, q: str | None, tag: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        sql = f"SELECT {COLUMNS} FROM notes WHERE owner = ?"
        args: list[Any] = [owner]
        if q:
            sql += " AND (instr(lower(title), lower(?)) > 0 OR instr(lower(body), lower(?)) > 0)"
            args += [q, q]
        if tag:
            sql += " AND EXISTS (SELECT 1 FROM json_each(notes.tags) WHERE json_each.value = ?)"
            args.append(tag)
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        args += [limit, offset]
        return [self._note(row) for row in self._db().execute(sql, args)]  # type: ignore[misc]

    def update(self, owner: str, note_id: int, changes: dict[str, Any]) -> dict[str, Any] | None:
        if "tags" in changes:
            changes = {**changes, "tags": json.dumps(changes["tags"])}
        if "done" in changes:
            changes = {**changes, "done": int(changes["done"])}
        sets = ", ".join(f"{name} = ?" for name in changes)  # names come from the model's fields
        row = self._db().execute(
            f"UPDATE notes SET {sets}{', ' if sets else ''}updated_at = ? WHERE owner = ? AND id = ? "
            f"RETURNING {COLUMNS}", (*changes.values(), time.time(), owner, note_id)).fetchone()
        return self._note(row)

    def delete(self, owner: str, note_id: int) -> bool:
        return self._db().execute("DELETE FROM notes WHERE owner = ? AND id = ?", (owner, note_id)).rowcount > 0

    def stats(self, owner: str) -> dict[str, Any]:
        db = self._db()
        total, done = db.execute("SELECT count(*), coalesce(sum(done), 0) FROM notes WHERE owner = ?",
                                 (owner,)).fetchone()
        tags = db.execute("SELECT json_each.value AS tag, count(*) AS n FROM notes, json_each(notes.tags) "
                          "WHERE owner = ? GROUP BY tag ORDER BY n DESC, tag LIMIT 10", (owner,)).fetchall()
        return {"total": total, "done": done, "open": total - done, "top_tags": {t: n for t, n in tags}}
