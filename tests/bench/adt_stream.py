#!/usr/bin/env python3
"""Writes an HL7 v2 ADT stream for the PAS feed benchmark (docs/benchmarks/pas.md): for each of
N patients an A01 (admitted to ward BENCH, bed B<n>), an A02 (moved to ward BENCH2, no bed)
and an A03 (discharged), in the format `tessera-admin hl7-send` reads (segments on lines,
messages separated by a blank line). Every patient is new (PID-3 a local number), so each
A01 registers a patient in the MPI and admits them in PAS.

    python3 tests/bench/adt_stream.py --ods RXR --patients 1000 > /tmp/adt.txt
"""
import argparse
import datetime

p = argparse.ArgumentParser()
p.add_argument("--ods", default="RXR")
p.add_argument("--patients", type=int, default=1000)
p.add_argument("--run", default=datetime.datetime.now().strftime("%H%M%S"),
               help="distinguishes this run's patients and control ids from an earlier run's")
a = p.parse_args()

start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=12)
families = ["SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "JOHNSON", "DAVIES", "PATEL", "WRIGHT"]


def pv1(location, visit, when):
    f = [""] * 46
    f[0], f[1], f[2], f[3], f[4] = "PV1", "1", "I", location, "21"
    f[7], f[10], f[14], f[19] = "C1234567^CONSULTANT", "300", "19", visit
    f[36], f[37], f[44], f[45] = "1", "19", when, when
    return "|".join(f)


out = []
for i in range(a.patients):
    mrn = f"B{a.run}{i:05d}"
    dob = f"19{40 + i % 60:02d}{1 + i % 12:02d}{1 + i % 28:02d}"
    pid = f"PID|1||{mrn}^^^{a.ods}^MR||{families[i % 10]}^P{i}||{dob}|{'F' if i % 2 else 'M'}"
    for n, (trigger, location) in enumerate([("A01", f"BENCH^^B{1 + i % 1000:04d}"), ("A02", "BENCH2"), ("A03", "BENCH2")]):
        t = (start + datetime.timedelta(seconds=i * 10 + n * 3)).strftime("%Y%m%d%H%M%S") + "+0000"
        out.append("\n".join([
            f"MSH|^~\\&|PAS|{a.ods}|TESSERA|{a.ods}|{t}||ADT^{trigger}|{mrn}-{n}|P|2.4|||AL|NE",
            f"EVN|{trigger}|{t}||||{t}",
            pid,
            pv1(location, f"V{mrn}", t),
        ]))
print("\n\n".join(out))
