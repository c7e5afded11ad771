#!/usr/bin/python3
"""Validates a pumprig run folder against docs/record.schema.json: record.json (and
record.rebuilt.json when present) and every complete line of events.jsonl, statuses.jsonl and
commands.jsonl. Prints "valid" or the first errors; exit 0 when valid, 1 when not, 2 on bad use.

Usage: check_record.py RUN_DIR [SCHEMA]
"""
import json
import os
import sys

import jsonschema


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    run_dir = argv[1]
    schema_path = argv[2] if len(argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "docs", "record.schema.json")
    with open(schema_path) as f:
        schema = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = []

    def check(instance, sub, where):
        s = dict(schema) if sub is None else {"$defs": schema["$defs"], "$ref": "#/$defs/" + sub}
        for e in validator_class(s).iter_errors(instance):
            errors.append(f"{where}: /{'/'.join(str(p) for p in e.absolute_path)}: {e.message}")

    for name in ("record.json", "record.rebuilt.json"):
        path = os.path.join(run_dir, name)
        if os.path.exists(path) or name == "record.json":
            with open(path) as f:
                check(json.load(f), None, name)
    for name, sub in (("events.jsonl", "event"), ("statuses.jsonl", "status"), ("commands.jsonl", "command")):
        path = os.path.join(run_dir, name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if line.endswith("\n") and line.strip():
                    check(json.loads(line), sub, f"{name}:{n}")
    if errors:
        print("\n".join(errors[:20]))
        return 1
    print("valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
