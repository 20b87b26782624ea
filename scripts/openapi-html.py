#!/usr/bin/python3
"""Writes the API reference, a static HTML page, from docs/openapi.json.

    scripts/openapi-html.py docs/openapi.json > api.html

The page has no script and no inline style (the daemon's Content-Security-Policy allows
neither): it links /v1/docs/docs.css. Every operation by tag with its roles, parameters,
request body and answers; every schema as a table of its members, with examples.
"""
import html
import json
import re
import sys

METHODS = ("get", "put", "post", "patch", "delete")


def esc(s):
    return html.escape(str(s), quote=True)


def inline(text):
    """One paragraph of the descriptions' little markdown: **bold** and `code`."""
    p = esc(text or "")
    p = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", p)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", p).replace("\n", " ")


def prose(text):
    """The descriptions' little markdown: paragraphs, **bold**, `code`."""
    paras = re.split(r"\n\s*\n", (text or "").strip())
    return "\n".join("<p>%s</p>" % inline(para) for para in paras if para)


def anchor(kind, name):
    return "%s-%s" % (kind, re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-"))


class Page:
    def __init__(self, doc):
        self.doc = doc
        self.out = []

    def w(self, s):
        self.out.append(s)

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            parts = obj["$ref"].lstrip("#/").split("/")
            obj = self.doc
            for p in parts:
                obj = obj[p]
        return obj

    def type_of(self, s):
        """A schema in a few words, with links to named schemas."""
        if not isinstance(s, dict):
            return "any"
        if "$ref" in s:
            name = s["$ref"].split("/")[-1]
            return '<a href="#%s">%s</a>' % (anchor("schema", name), esc(name))
        if "const" in s:
            return "<code>%s</code>" % esc(json.dumps(s["const"]))
        for k, word in (("oneOf", "one of"), ("anyOf", "any of")):
            if k in s:
                return "%s %s" % (word, " | ".join(self.type_of(x) for x in s[k]))
        if "allOf" in s:
            extra = ", and its own members" if s.get("properties") else ""
            return "the members of " + ", ".join(self.type_of(x) for x in s["allOf"]) + extra
        t = s.get("type", "any")
        types = t if isinstance(t, list) else [t]
        words = []
        for t in types:
            if t == "array":
                words.append("array of " + self.type_of(s.get("items", {})))
            elif t == "object" and isinstance(s.get("additionalProperties"), dict):
                words.append("object of " + self.type_of(s["additionalProperties"]))
            else:
                words.append(esc(t))
        text = " or ".join(words)
        if "enum" in s:
            text += ": " + ", ".join("<code>%s</code>" % esc(json.dumps(v)) for v in s["enum"])
        limits = [("format", "%s"), ("pattern", "matching <code>%s</code>"), ("minimum", "from %s"),
                  ("maximum", "to %s"), ("minLength", "at least %s characters"),
                  ("maxLength", "at most %s bytes"), ("maxItems", "at most %s items"),
                  ("maxProperties", "at most %s members"), ("default", "default %s")]
        notes = [fmt % esc(s[k]) for k, fmt in limits if k in s]
        return text + (" (%s)" % ", ".join(notes) if notes else "")

    def members(self, s):
        """A table of an object schema's members, when it has any."""
        props = s.get("properties") or {}
        if not props:
            return
        required = set(s.get("required", []))
        self.w("<table><thead><tr><th>Member</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>")
        for name, p in props.items():
            self.w("<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                esc(name), self.type_of(p), "yes" if name in required else "",
                inline(p.get("description") if isinstance(p, dict) else "")))
        self.w("</tbody></table>")
        closed = s.get("additionalProperties") is False or s.get("unevaluatedProperties") is False
        if closed:
            self.w('<p class="note">No other members.</p>')

    def example(self, value, label="Example"):
        self.w("<details><summary>%s</summary><pre>%s</pre></details>" % (
            label, esc(json.dumps(value, indent=2, ensure_ascii=False)
                       if not isinstance(value, str) else value)))

    def schema_block(self, s):
        s = s or {}
        self.w("<p>%s</p>" % self.type_of(s))
        if "$ref" not in s:
            self.members(s)

    def operation(self, path, method, op, item):
        aid = anchor("op", op.get("operationId", method + path))
        self.w('<section class="operation" id="%s">' % aid)
        self.w('<h3><span class="method method-%s">%s</span> <code>%s</code></h3>' % (method, method.upper(), esc(path)))
        self.w("<p><strong>%s</strong></p>" % esc(op.get("summary", "")))
        self.w(prose(op.get("description", "")))
        sec = op.get("security", self.doc.get("security", []))
        if not sec:
            self.w("<p>No key.</p>")
        params = [self.deref(p) for p in item.get("parameters", []) + op.get("parameters", [])]
        if params:
            self.w("<h4>Parameters</h4><table class=\"params\"><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>")
            for p in params:
                self.w("<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                    esc(p["name"]), esc(p["in"]), self.type_of(p.get("schema", {})),
                    "yes" if p.get("required") else "", inline(p.get("description", ""))))
            self.w("</tbody></table>")
        body = self.deref(op.get("requestBody")) if op.get("requestBody") else None
        if body:
            self.w("<h4>Request body%s</h4>" % ("" if body.get("required") else " (optional)"))
            if body.get("description"):
                self.w(prose(body["description"]))
            for mt, c in body.get("content", {}).items():
                self.w("<p><code>%s</code></p>" % esc(mt))
                self.schema_block(c.get("schema"))
                self.media_example(c, "Example request")
        self.w("<h4>Answers</h4><table><thead><tr><th>Status</th><th>Description</th><th>Body</th></tr></thead><tbody>")
        for status, r in op.get("responses", {}).items():
            r = self.deref(r)
            bodies = "<br>".join("<code>%s</code>: %s" % (esc(mt), self.type_of(c.get("schema", {})))
                                 for mt, c in r.get("content", {}).items())
            self.w("<tr><td>%s</td><td>%s</td><td>%s</td></tr>" % (esc(status), inline(r.get("description", "")), bodies))
        self.w("</tbody></table>")
        for status, r in op.get("responses", {}).items():
            if status.startswith("2"):
                for c in self.deref(r).get("content", {}).values():
                    self.media_example(c, "Example answer (%s)" % status)
        self.w("</section>")

    def media_example(self, media, label):
        """The example of a request or answer body: its own, or its schema's."""
        schema = self.deref(media.get("schema", {}))
        for holder in (media, schema):
            if "example" in holder:
                self.example(holder["example"], label)
                return
            if holder.get("examples"):
                first = holder["examples"]
                first = next(iter(first.values())) if isinstance(first, dict) else first[0]
                self.example(self.deref(first).get("value", first) if isinstance(first, dict) and
                             ("value" in first or "$ref" in first) else first, label)
                return

    def render(self):
        doc, info = self.doc, self.doc["info"]
        ops_by_tag = {}
        for path, item in doc["paths"].items():
            for m in METHODS:
                if m in item:
                    ops_by_tag.setdefault(item[m].get("tags", ["Other"])[0], []).append((path, m, item[m], item))
        self.w('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')
        self.w('<meta name="viewport" content="width=device-width, initial-scale=1">')
        self.w("<title>%s %s</title>" % (esc(info["title"]), esc(info["version"])))
        self.w('<link rel="stylesheet" href="/v1/docs/docs.css">\n</head>\n<body>')
        self.w('<a class="skip" href="#main">Skip to the reference</a>')
        self.w("<nav aria-label=\"Contents\"><h2>Contents</h2><ul>")
        self.w('<li><a href="#authentication">Authentication</a></li>')
        used = [t for t in doc.get("tags", []) if t["name"] in ops_by_tag]
        for tag in used:
            name = tag["name"]
            self.w('<li><a href="#%s">%s</a><ul>' % (anchor("tag", name), esc(name)))
            for path, m, op, _ in ops_by_tag[name]:
                self.w('<li><a href="#%s"><span class="method method-%s">%s</span> %s</a></li>' % (
                    anchor("op", op["operationId"]), m, m.upper(), esc(path)))
            self.w("</ul></li>")
        self.w('<li><a href="#schemas">Schemas</a></li></ul></nav>')
        self.w('<main id="main"><h1>%s</h1>' % esc(info["title"]))
        self.w("<p>%s. Version %s. The description itself: <a href=\"/v1/openapi.json\">/v1/openapi.json</a> (OpenAPI %s).</p>" % (
            esc(info.get("summary", "")).rstrip("."), esc(info["version"]), esc(doc["openapi"])))
        self.w(prose(info.get("description", "")))
        self.w('<h2 id="authentication">Authentication</h2><dl>')
        for name, scheme in doc["components"].get("securitySchemes", {}).items():
            self.w("<dt><code>%s</code></dt><dd>%s</dd>" % (esc(name), prose(scheme.get("description", ""))))
        self.w("</dl>")
        for tag in used:
            name = tag["name"]
            self.w('<h2 id="%s">%s</h2>' % (anchor("tag", name), esc(name)))
            self.w(prose(tag.get("description", "")))
            for path, m, op, item in ops_by_tag[name]:
                self.operation(path, m, op, item)
        self.w('<h2 id="schemas">Schemas</h2>')
        for name, s in doc["components"]["schemas"].items():
            self.w('<section class="schema" id="%s"><h3>%s</h3>' % (anchor("schema", name), esc(name)))
            self.w(prose(s.get("description", "")))
            self.w("<p>%s</p>" % self.type_of(s))
            self.members(s)
            for k in ("oneOf", "anyOf"):
                for branch in s.get(k, []):
                    if "$ref" not in branch:
                        self.w("<h4>%s</h4>" % esc(branch.get("title") or branch.get("description") or "Branch"))
                        self.w("<p>%s</p>" % self.type_of(branch))
                        self.members(branch)
            if "example" in s:
                self.example(s["example"])
            self.w("</section>")
        self.w("</main>\n</body>\n</html>")
        return "\n".join(self.out) + "\n"


def main(argv):
    if len(argv) != 2:
        print("usage: openapi-html.py docs/openapi.json > api.html", file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        doc = json.load(f)
    sys.stdout.write(Page(doc).render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
