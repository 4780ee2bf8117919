#!/usr/bin/env python3
"""Fails when the test data's client names, emails, phones or national IDs show where they must not:
in a log file the suite wrote, in what a test left in Redis (keys, values, RQ job payloads), or in
the keys and job payloads still in a Redis database.

    scripts/phi_scan.py DIR [--redis URL]

DIR is the suite's PHI_SCAN_DIR: its `phi-values.jsonl` (written by the suite, tests/phi.py) names
the values to look for; every other file under DIR is read. The scan says how many files and keys it
read and fails when it read no file (the suite's logs were not where it looked) or found no values.
Exit status: 0 clean, 1 found or nothing read.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import phonenumbers

VALUES_FILE = "phi-values.jsonl"
# Shorter values ("Ana") would match ordinary words; the test data's are longer. A one-word name
# ("expired", "second": tests name clients for what they test) is an ordinary word in a log too:
# a name is looked for when it has two words at least, as a person's full name does.
MIN_LENGTH = 5


def load_values(folder: Path) -> dict[str, str]:
    """{lower-cased value: field} of every recorded value long enough to search for; a phone also
    without its plus (`51987650022`) and as its national number (`987650022` of `+51987650022`),
    as a log or an SMS gateway may write it."""
    path = folder / VALUES_FILE
    values = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                for value in _forms(entry["field"], entry["value"].strip()):
                    if len(value) >= MIN_LENGTH:
                        values[value.lower()] = entry["field"]
    return values


def _forms(field: str, value: str) -> list[str]:
    if field == "full_name" and len(value.split()) < 2:
        return []
    if field != "phone":
        return [value]
    try:
        number = phonenumbers.parse(value)
    except phonenumbers.NumberParseException:
        return [value]
    return [value, f"{number.country_code}{number.national_number}", str(number.national_number)]


def _readable(raw: bytes) -> bytes:
    """A value as stored, followed by its zlib-inflated form when it is one (RQ job payloads)."""
    try:
        return raw + b"\n" + zlib.decompress(raw)
    except zlib.error:
        return raw


def redis_texts(connection, keys: Iterable[bytes] | None = None) -> Iterator[tuple[bytes, bytes]]:
    """(key, everything stored under it) for each key: strings, hashes (an RQ job's data, args and
    description), lists, sets and sorted sets (queues and registries of job ids)."""
    for key in keys if keys is not None else connection.scan_iter():
        kind = connection.type(key)
        if kind == b"string":
            parts = [connection.get(key) or b""]
        elif kind == b"hash":
            parts = [part for pair in connection.hgetall(key).items() for part in pair]
        elif kind == b"list":
            parts = connection.lrange(key, 0, -1)
        elif kind == b"set":
            parts = list(connection.smembers(key))
        elif kind == b"zset":
            parts = connection.zrange(key, 0, -1)
        else:  # a stream or gone since listed
            parts = []
        yield key, b"\n".join(_readable(part) for part in parts)


def found_in(text: bytes, values: dict[str, str]) -> list[str]:
    lowered = text.decode("utf-8", errors="replace").lower()
    return [f"{field} {value!r}" for value, field in values.items() if _stands_alone(value, lowered)]


def _stands_alone(value: str, text: str) -> bool:
    """Whether `value` occurs in `text` as a token of its own: with no letter or digit just before
    or after it. A national ID such as `ab-99` is otherwise found inside random identifiers (an RQ
    job id `...48ab-99f1...`), which would fail a clean run by chance."""
    start = text.find(value)
    while start != -1:
        end = start + len(value)
        if not (start and text[start - 1].isalnum()) and not (end < len(text) and text[end].isalnum()):
            return True
        start = text.find(value, start + 1)
    return False


def scan(folder: Path, redis_url: str | None = None, out=sys.stdout) -> int:
    values = load_values(folder)
    findings: list[str] = []
    files = [path for path in sorted(folder.rglob("*")) if path.is_file() and path.name != VALUES_FILE]
    for path in files:
        findings += [f"{path.relative_to(folder)}: {hit}" for hit in found_in(path.read_bytes(), values)]
    keys = 0
    if redis_url:
        import redis

        connection = redis.Redis.from_url(redis_url)
        for key, text in redis_texts(connection):
            keys += 1
            findings += [f"redis key {key.decode(errors='replace')}: {hit}" for hit in found_in(key + text, values)]
        connection.close()
    print(f"PHI scan: {len(files)} files, {keys} Redis keys read; {len(values)} client values looked for", file=out)
    if not values:
        print(f"FAILED: no client values recorded in {folder / VALUES_FILE}", file=out)
        return 1
    if not files:
        print(f"FAILED: no file read in {folder}: the suite's logs are not there", file=out)
        return 1
    if findings:
        print("FAILED: client data found:\n  " + "\n  ".join(findings), file=out)
        return 1
    print("PHI scan: clean", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the suite's PHI_SCAN_DIR")
    parser.add_argument("--redis", metavar="URL", help="a Redis database whose keys and job payloads are read too")
    arguments = parser.parse_args(argv)
    return scan(arguments.folder, arguments.redis)


if __name__ == "__main__":
    sys.exit(main())
