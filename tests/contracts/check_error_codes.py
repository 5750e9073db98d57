"""Every error code the services answered during the test suite is in the documented
catalogue, `docs/contracts/api-errors.md`. The services write each problem and each FHIR
response they give into the directory named by TESSERA_FHIR_CAPTURE while `cargo xtask test`
runs; this collects the codes (a problem's `code`, an OperationOutcome issue's
`details.coding[].code` in Tessera's api-error system) and fails on any the table lacks.

Usage: python tests/contracts/check_error_codes.py <capture directory> <api-errors.md>
"""
import collections
import json
import pathlib
import re
import sys

SYSTEM = "https://tessera.nhs.uk/CodeSystem/api-error"
# Field-level codes live in `errors[].code` and are described in the table's prose.
FIELD_LEVEL = {"errors"}


def documented(markdown: str) -> set:
    codes = set()
    for line in markdown.splitlines():
        cells = line.split("|")
        if len(cells) > 3 and cells[1].strip().isdigit():
            codes.update(re.findall(r"`([^`]+)`", cells[2]))
    return codes


def answered(directory: pathlib.Path) -> collections.Counter:
    seen = collections.Counter()
    for f in directory.rglob("*.json"):
        try:
            body = json.loads(f.read_text())
        except ValueError:
            continue
        if not isinstance(body, dict):
            continue
        if body.get("resourceType") == "OperationOutcome":
            for issue in body.get("issue", []):
                for coding in (issue.get("details") or {}).get("coding", []):
                    if coding.get("system") == SYSTEM and issue.get("expression") is None:
                        seen[coding.get("code")] += 1
        elif "resourceType" not in body and isinstance(body.get("code"), str) and "status" in body:
            # A problem (RFC 9457); FHIR resources with a `code` (Observation) are not.
            seen[body["code"]] += 1
    return seen


def main(directory: str, catalogue: str) -> int:
    docs = documented(pathlib.Path(catalogue).read_text())
    seen = answered(pathlib.Path(directory))
    missing = sorted(c for c in seen if c not in docs)
    for code, n in sorted(seen.items()):
        print(f"{'ok  ' if code in docs else 'MISSING'}  {n:5d}  {code}")
    print(f"{len(seen) - len(missing)} of {len(seen)} error codes answered in the tests are documented in {catalogue}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
