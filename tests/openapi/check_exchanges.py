#!/usr/bin/python3
"""Holds every recorded HTTP exchange with signpostd against docs/openapi.json.

    check_exchanges.py [--every-operation] OPENAPI.json EXCHANGES.jsonl...

tests/integration/harness.py records each request the integration tests make through http()
to a running daemon (method, path, query, request body and its type, status, response body
and its type), one JSON object a line. Each exchange must find its operation in the
description (path and method, as the daemon's route table would choose it), and then:

- its status must be one the operation documents (or, for a path or method no operation
  takes, the answers `x-signpost-unrouted` gives);
- the response's media type must be one that status documents, and a JSON body must match
  its schema (JSON Schema 2020-12, Debian's python3-jsonschema): a member the schema does not
  have is an error wherever the schema closes its object;
- the request is checked too (path and query parameters, JSON body): a request the
  description refuses must not have been accepted (2xx), and a query parameter the operation
  does not document is an error.

With --every-operation (the whole suite's run), an operation that no exchange called is an
error too.

Prints one line per kind of problem (with how often, and the first test that hit it) and a
summary; exits 1 when anything is wrong, 2 when it cannot run (a file missing or unreadable).
"""
import base64
import json
import re
import sys
import urllib.parse

try:
    import jsonschema
except ImportError:  # pragma: no cover
    print("check_exchanges: python3-jsonschema is not installed (scripts/deps.sh)", file=sys.stderr)
    sys.exit(2)

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class Spec:
    def __init__(self, doc):
        self.doc = doc
        self.resolver = jsonschema.RefResolver("", doc)
        self.routes = []  # (regex, template, path item), fewest parameters first
        for template, item in doc["paths"].items():
            params = {p["name"]: p for p in self.params_of(item, None)}
            rx, names = "", []
            for part in re.split(r"(\{[^}]+\})", template):
                if part.startswith("{"):
                    name = part[1:-1]
                    names.append(name)
                    rest = any(p.get("x-signpost-rest-of-path") for o in self.operations(item)
                               for p in self.params_of(item, o) if p["name"] == name)
                    rx += "(.*)" if rest or params.get(name, {}).get("x-signpost-rest-of-path") else "([^/]+)"
                else:
                    rx += re.escape(part)
            self.routes.append((re.compile("^" + rx + "$"), template, item, names))
        self.routes.sort(key=lambda r: (len(r[3]), r[1]))

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def operations(self, item):
        return [item[m] for m in METHODS if m in item]

    def params_of(self, item, op):
        out = {}
        for p in (item.get("parameters", []) + (op.get("parameters", []) if op else [])):
            p = self.deref(p)
            out[(p["name"], p["in"])] = p
        return list(out.values())

    def find(self, method, path):
        """(template, operation, path values) or (None, None, reason): 'path' or 'method'."""
        method = "get" if method.lower() == "head" else method.lower()
        known = False
        for rx, template, item, names in self.routes:
            m = rx.match(path)
            if not m:
                continue
            known = True
            if method in item:
                return template, item, item[method], dict(zip(names, m.groups()))
        return None, None, None, "method" if known else "path"

    def validator(self, schema):
        return jsonschema.Draft202012Validator(schema, resolver=self.resolver)


def body_bytes(rec):
    if "text" in rec:
        return rec["text"].encode()
    if "base64" in rec:
        return base64.b64decode(rec["base64"])
    return b""


def media(ct):
    return (ct or "").split(";")[0].strip().lower()


def coerce(value, schema):
    """A path or query value as the type its schema names."""
    types = schema.get("type", "string")
    types = types if isinstance(types, list) else [types]
    if ("integer" in types or "number" in types) and re.fullmatch(r"-?[0-9]{1,30}", value):
        return int(value)
    if "boolean" in types and value in ("true", "false"):
        return value == "true"
    return value


def telling(e):
    """Inside a oneOf or anyOf that nothing matched, the error of the branch that came closest."""
    while e.validator in ("oneOf", "anyOf") and e.context:
        branches = {}
        for sub in e.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        e = min(min(branches.values(), key=len), key=lambda x: -len(x.absolute_path))
    return e


def first_error(validator, instance):
    """The most telling error: where it is, and what."""
    e = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if e is None:
        return None
    e = telling(e)
    where = "/".join(str(p) for p in e.absolute_path) or "(root)"
    msg = e.message if len(e.message) < 300 else e.message[:300] + "..."
    return "%s: %s" % (where, msg)


class Checker:
    def __init__(self, spec):
        self.spec = spec
        self.problems = {}  # key -> [count, first example]
        self.checked = 0
        self.used = set()
        self.ignored_query = set()

    def problem(self, ex, kind, detail):
        where = "%s %s -> %s" % (ex["method"], ex.get("template") or ex["path"], ex["status"])
        key = (where, kind, re.sub(r"[0-9]+", "N", detail)[:200])
        entry = self.problems.setdefault(key, [0, ex, detail])
        entry[0] += 1

    def undocumented_query(self, ex, name):
        """The daemon ignores query parameters it does not know, so one the description does not
        list is an error only when the daemon refused the request naming it (it knows it)."""
        try:
            field = json.loads(body_bytes(ex.get("response", {})).decode())["error"].get("field")
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            field = None
        if field == name:
            self.problem(ex, "the daemon reads a query parameter the description does not list", name)
        else:
            self.ignored_query.add(name)

    def check_request(self, ex, item, op, values):
        """Problems with the request as sent: the list is empty for a request the spec allows."""
        bad = []
        params = self.spec.params_of(item, op)
        for p in params:
            if p["in"] == "path" and p["name"] in values:
                v = urllib.parse.unquote(values[p["name"]])
                err = first_error(self.spec.validator(p.get("schema", {})), coerce(v, p.get("schema", {})))
                if err:
                    bad.append("path parameter %s: %s" % (p["name"], err))
        query = urllib.parse.parse_qsl(ex.get("query") or "", keep_blank_values=True)
        qparams = {p["name"]: p for p in params if p["in"] == "query"}
        open_query = any(self.spec.deref(p.get("schema", {})).get("type") == "object" for p in qparams.values())
        seen = set()
        for name, value in query:
            p = qparams.get(name)
            if p is None:
                if not open_query:
                    self.undocumented_query(ex, name)
                continue
            if name in seen:  # the daemon reads the first of a repeated parameter
                continue
            seen.add(name)
            err = first_error(self.spec.validator(p.get("schema", {})), coerce(value, p.get("schema", {})))
            if err:
                bad.append("query parameter %s: %s" % (name, err))
        body = self.spec.deref(op.get("requestBody")) if op.get("requestBody") else None
        raw = body_bytes(ex.get("request", {}))
        if body is None:
            return bad
        content = body.get("content", {})
        mt = media(ex.get("request", {}).get("content_type"))
        if ex.get("request", {}).get("streamed"):  # not recorded: its type alone is checked
            if mt not in content:
                bad.append("the body's type %r is not documented" % mt)
            return bad
        if mt == "application/x-www-form-urlencoded" and mt in content:
            form = dict(urllib.parse.parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
            err = first_error(self.spec.validator(content[mt].get("schema", {})), form)
            if err:
                bad.append("body %s" % err)
        elif "application/json" in content and (mt not in content or mt == "application/json"):
            # JSON bodies are read as JSON whatever their Content-Type says.
            try:
                instance = json.loads(raw.decode()) if raw.strip() else {}
            except (UnicodeDecodeError, ValueError, RecursionError):
                bad.append("the body is not JSON")
                return bad
            if ex.get("request", {}).get("truncated"):
                return bad
            err = first_error(self.spec.validator(content["application/json"].get("schema", {})), instance)
            if err:
                bad.append("body %s" % err)
        elif mt not in content:
            bad.append("the body's type %r is not documented" % ex.get("request", {}).get("content_type"))
        return bad

    def check_response(self, ex, response):
        response = self.spec.deref(response)
        content = response.get("content")
        rec = ex.get("response", {})
        raw = body_bytes(rec)
        if not content:
            if raw:
                self.problem(ex, "a body where none is documented", raw[:80].decode(errors="replace"))
            return
        mt = media(rec.get("content_type"))
        if mt not in content:
            self.problem(ex, "undocumented response type", "%s (documented: %s)" % (mt, ", ".join(content)))
            return
        if mt != "application/json" or ex["method"] == "HEAD" or ex.get("response_encoding"):
            return
        try:
            instance = json.loads(raw.decode())
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            self.problem(ex, "the response is not JSON", str(e))
            return
        err = first_error(self.spec.validator(content[mt].get("schema", {})), instance)
        if err:
            self.problem(ex, "response body does not match", err)

    def check_redirect(self, ex):
        """A request that was answered with a redirect, followed to ex["path"]: the first
        request's operation must document a 3xx answer."""
        first = dict(ex, path=ex["redirected_from"], status=302, response={})
        template, _, op, _ = self.spec.find(ex["method"], first["path"])
        if op is None:
            self.problem(first, "undocumented route", "%s %s redirected" % (ex["method"], first["path"]))
            return
        first["template"] = template
        self.used.add((template, ex["method"].upper().replace("HEAD", "GET")))
        if not any(s.startswith("3") for s in op.get("responses", {})):
            self.problem(first, "undocumented redirect", "%s %s answered a redirect to %s" % (
                ex["method"], first["path"], ex["path"]))

    def check(self, ex):
        self.checked += 1
        if ex.get("redirected_from"):
            self.check_redirect(ex)
        status = str(ex["status"])
        template, item, op, found = self.spec.find(ex["method"], ex["path"])
        unrouted = self.spec.doc.get("x-signpost-unrouted", {})
        if op is None:
            answers = dict(unrouted.get("protocol", {}))
            if "unknown-" + found in unrouted:
                answers[{"path": "404", "method": "405"}[found]] = unrouted["unknown-" + found]
            if status not in answers:
                self.problem(ex, "undocumented %s" % ("route" if found == "path" else "method"),
                             "%s %s answered %s" % (ex["method"], ex["path"], status))
                return
            self.check_response(ex, answers[status])
            return
        ex["template"] = template
        self.used.add((template, ex["method"].upper().replace("HEAD", "GET")))
        bad = self.check_request(ex, item, op, found)
        if bad and 200 <= ex["status"] < 300:
            self.problem(ex, "a request the description refuses was accepted", bad[0])
        responses = op.get("responses", {})
        response = responses.get(status) or responses.get(status[0] + "XX") or responses.get("default")
        if response is None:
            response = unrouted.get("protocol", {}).get(status)
        if response is None:
            self.problem(ex, "undocumented status", "%s (documented: %s)%s" % (
                status, ", ".join(responses), "; request: " + bad[0] if bad else ""))
            return
        self.check_response(ex, response)

    def report(self, every_operation=False, out=sys.stdout):
        for (where, kind, _), (n, ex, detail) in sorted(self.problems.items(), key=lambda kv: kv[0]):
            print("FAIL %s: %s: %s (%d time%s; first in %s)" % (where, kind, detail, n, "" if n == 1 else "s",
                                                             ex.get("test") or "?"), file=out)
        ops = [(t, m.upper()) for t, item in self.spec.doc["paths"].items() for m in METHODS if m in item]
        unused = [o for o in ops if o not in self.used]
        print("%d exchanges checked against %d operations (%d exercised); %d kinds of problem" % (
            self.checked, len(ops), len(ops) - len(unused), len(self.problems)), file=out)
        if self.ignored_query:
            print("query parameters sent that no operation lists (the daemon ignores them): " +
                  ", ".join(sorted(self.ignored_query)), file=out)
        if unused and every_operation:
            for t, m in sorted(unused):
                print("FAIL %s %s: no test called it (a test that does belongs with the route)" % (m, t), file=out)
            return False
        if unused:
            print("not exercised by any test: " + ", ".join("%s %s" % (m, t) for t, m in sorted(unused)), file=out)
        return not self.problems


def main(argv):
    every_operation = "--every-operation" in argv
    argv = [a for a in argv if a != "--every-operation"]
    if len(argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            spec = Spec(json.load(f))
        exchanges = []
        for path in argv[2:]:
            with open(path) as f:
                exchanges += [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError, KeyError) as e:
        print("check_exchanges: cannot read its input: %s" % e, file=sys.stderr)
        return 2
    if not exchanges:
        print("check_exchanges: no exchanges were recorded in %s" % ", ".join(argv[2:]), file=sys.stderr)
        return 2
    checker = Checker(spec)
    for ex in exchanges:
        checker.check(ex)
    return 0 if checker.report(every_operation) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
