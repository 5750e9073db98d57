"""Every FHIR response the test suite produced, errors included, read by an independent FHIR
parser: the PyPI package `fhir.resources`, R4B models (ADR 23). The services write each
`application/fhir+json` response they give into the directory named by TESSERA_FHIR_CAPTURE
while `cargo xtask test` runs; this reads them all and fails on the first class of problem:
not JSON, no resourceType, a resource the models refuse, or an empty array (FHIR forbids it).

Usage: python tests/fhir/check_responses.py <capture directory>
"""
import collections
import json
import pathlib
import sys

from fhir.resources.R4B import construct_fhir_element


def empty_arrays(value, path="$"):
    if isinstance(value, list):
        if not value:
            yield path
        for i, item in enumerate(value):
            yield from empty_arrays(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from empty_arrays(item, f"{path}.{key}")


def main(directory: str) -> int:
    files = sorted(pathlib.Path(directory).glob("*.json"))
    if not files:
        print(f"no FHIR responses captured in {directory}")
        return 1
    kinds = collections.Counter()
    failures = []
    for f in files:
        status = f.name.split("-", 1)[0]
        try:
            body = json.loads(f.read_text())
            kind = body.get("resourceType") if isinstance(body, dict) else None
            if not kind:
                raise ValueError("no resourceType")
            construct_fhir_element(kind, body)
            empties = list(empty_arrays(body))
            if empties:
                raise ValueError(f"empty arrays at {', '.join(empties[:5])}")
            kinds[f"{kind} {status}"] += 1
        except Exception as e:  # noqa: BLE001 - every failure is reported, whatever its type
            failures.append(f"{f.name}: {str(e)[:300]}")
    for kind, n in sorted(kinds.items()):
        print(f"ok    {n:5d}  {kind}")
    for failure in failures[:40]:
        print(f"FAIL  {failure}")
    print(f"{len(files) - len(failures)} of {len(files)} FHIR responses parsed by fhir.resources (R4B)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
