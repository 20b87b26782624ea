"""Every metric that docs/grafana-dashboard.json and docs/alerts.yml name is one signpostd
writes: a family named in gateway/counters.c, with the suffixes of its type."""
import json
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NAME = re.compile(r"\b((?:signpost|process)_[a-z_]+)\b")


def families():
    src = open(os.path.join(ROOT, "gateway", "counters.c")).read()
    found = set()
    for kind, name in re.findall(r"metrics_(?:family|single)\(o, METRICS_(\w+), \"(\w+)\"", src):
        suffixes = {"COUNTER": ["_total"], "GAUGE": [""],
                    "HISTOGRAM": ["_bucket", "_sum", "_count"]}[kind]
        found.update(name + s for s in suffixes)
    return found


def main():
    known = families()
    if len(known) < 20:
        print("found only %d metric names in gateway/counters.c" % len(known))
        return 1
    dash = json.load(open(os.path.join(ROOT, "docs", "grafana-dashboard.json")))
    exprs = [("dashboard: " + p["title"], t["expr"]) for p in dash["panels"]
             for t in p.get("targets", [])]
    rules = open(os.path.join(ROOT, "docs", "alerts.yml")).read()
    exprs += [("docs/alerts.yml", e) for e in re.findall(r"expr: (?:>-\n)?((?:.|\n)*?)\n\s+(?:for|labels):", rules)]
    bad = [(where, n) for where, e in exprs for n in NAME.findall(e) if n not in known]
    for where, n in bad:
        print("%s: %s is not a metric signpostd writes" % (where, n))
    if not exprs or bad:
        return 1
    print("%d expressions, every metric known" % len(exprs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
