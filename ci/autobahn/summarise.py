"""Summarises an Autobahn fuzzingclient report (`<outdir>/index.json`) per case group.

    python ci/autobahn/summarise.py reports/servers/index.json [--fail-on FAILED,UNIMPLEMENTED]

Prints, for every agent, one row per case group (the case id's first number) with the counts of
each behaviour (OK, NON-STRICT, INFORMATIONAL, FAILED, UNIMPLEMENTED, ...), the counts of the close
behaviours, and every case whose behaviour is not OK/INFORMATIONAL. Exits 1 when a case has one of the
`--fail-on` behaviours (default FAILED) or `--fail-on-close` close behaviours (default FAILED, UNCLEAN,
WRONG CODE, FAILED BY CLIENT), so CI can gate on it.
"""
import argparse
import json
import sys
from collections import Counter, defaultdict

COLUMNS = ["OK", "NON-STRICT", "INFORMATIONAL", "FAILED", "UNIMPLEMENTED"]


def case_key(case_id):
    return tuple(int(p) for p in case_id.split("."))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index")
    ap.add_argument("--fail-on", default="FAILED", help="behaviours that fail the run")
    ap.add_argument("--fail-on-close", default="FAILED,UNCLEAN,WRONG CODE,FAILED BY CLIENT",
                    help="close behaviours that fail the run (FAILED BY CLIENT: the fuzzer had to drop "
                         "the TCP connection, which the server should close first)")
    args = ap.parse_args(argv)
    fail_on = {b.strip() for b in args.fail_on.split(",") if b.strip()}
    fail_on_close = {b.strip() for b in args.fail_on_close.split(",") if b.strip()}
    with open(args.index) as f:
        report = json.load(f)
    if not report:
        print("no agents in report", file=sys.stderr)
        return 2
    bad = 0
    for agent, cases in sorted(report.items()):
        groups = defaultdict(Counter)
        for case_id, result in cases.items():
            groups[case_id.split(".")[0]][result["behavior"]] += 1
        extra = sorted({b for g in groups.values() for b in g} - set(COLUMNS))
        cols = COLUMNS + extra
        print(f"agent {agent}: {len(cases)} cases")
        print("group " + " ".join(f"{c:>13}" for c in cols))
        total = Counter()
        for group in sorted(groups, key=int):
            total.update(groups[group])
            print(f"{group + '.*':<5} " + " ".join(f"{groups[group][c]:>13}" for c in cols))
        print(f"{'all':<5} " + " ".join(f"{total[c]:>13}" for c in cols))
        closes = Counter(r["behaviorClose"] for r in cases.values())
        print("close behaviour: " + ", ".join(f"{b} {n}" for b, n in sorted(closes.items())))
        for case_id in sorted(cases, key=case_key):
            r = cases[case_id]
            if r["behavior"] not in ("OK", "INFORMATIONAL") or r["behaviorClose"] in fail_on_close:
                print(f"  {case_id}: {r['behavior']} (close {r['behaviorClose']}, code "
                      f"{r['remoteCloseCode']}; {r['reportfile']})")
            if r["behavior"] in fail_on or r["behaviorClose"] in fail_on_close:
                bad += 1
    if bad:
        print(f"{bad} case(s) with behaviour in {sorted(fail_on)} or close behaviour in {sorted(fail_on_close)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
