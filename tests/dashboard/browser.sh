#!/bin/bash
# The dashboard in a real browser: headless chromium loads URL, lets the page poll
# api/status, and the DOM it rendered is checked against the JSON; then a screenshot.
#
#   tests/dashboard/browser.sh URL SCREENSHOT.png
#
# URL is the dashboard's page (http://127.0.0.1:8787/); its JSON is URL + api/status.
# Checks, each printed:
#   - the page is self-contained (no script, stylesheet, font, image or frame
#     fetched from elsewhere);
#   - after the page has polled (body data-polls >= 1), the DOM agrees with what the
#     page says it rendered (body data-* counts) and with the JSON fetched here just
#     before and just after the browser ran: tr.engine rows = engines, #engines-alive
#     = alive engines, rect.task = stream.shown, #stream-total = stream.total,
#     tr.call / tr.lost / tr.object rows = calls / lost / objects. If a count moved
#     between the two fetches (a live program), the page's value must lie between them;
#   - no markup from the JSON became elements in the rows;
#   - SCREENSHOT.png is a 1280x1000 PNG of reasonable size.
# Exits 0 when all hold, 1 with a message on the first kind of mismatch, 2 on misuse.
# Environment: CHROMIUM (default chromium), BUDGET_MS (virtual time the page gets
# before the DOM is taken, default 2500).

set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 URL SCREENSHOT.png" >&2
    exit 2
fi
URL=$1
SHOT=$2
case "$URL" in
    http://*|https://*) ;;
    *) echo "browser.sh: URL must start with http:// or https:// (got '$URL')" >&2; exit 2 ;;
esac
case "$URL" in */) ;; *) URL="$URL/" ;; esac
API="${URL}api/status"
CHROMIUM=${CHROMIUM:-chromium}
BUDGET_MS=${BUDGET_MS:-2500}

if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
    echo "browser.sh: '$CHROMIUM' not found (set CHROMIUM=...)" >&2
    exit 2
fi
command -v python3 >/dev/null 2>&1 || { echo "browser.sh: python3 not found" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ranks-dashboard.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Only the dashboard's host is reachable by name; every other name fails to resolve,
# so that a page which fetched anything from elsewhere would show it here.
HOST=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).hostname or "")' "$URL")
[ -n "$HOST" ] || fail "no host in URL $URL"

FLAGS=(--headless --disable-gpu --hide-scrollbars --mute-audio
       --no-first-run --no-default-browser-check --disable-extensions
       --disable-background-networking --disable-component-update --disable-sync
       --disable-default-apps --disable-breakpad --no-proxy-server
       "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE $HOST")
[ "$(id -u)" = 0 ] && FLAGS+=(--no-sandbox)

VERSION=$("$CHROMIUM" --version 2>/dev/null | head -n1)
echo "browser: ${VERSION:-unknown chromium}"
echo "page:    $URL"

# chromium OUT LOG EXTRA-FLAGS...: one headless run on a fresh profile, stdout to OUT.
run_chromium() {
    local out=$1 log=$2; shift 2
    local profile rc
    profile=$(mktemp -d "$WORK/profile.XXXXXX")
    timeout -k 5 90 "$CHROMIUM" "${FLAGS[@]}" --user-data-dir="$profile" "$@" "$URL" \
        >"$out" 2>"$log"
    rc=$?
    rm -rf "$profile"
    return $rc
}

fetch() { # fetch URL OUT
    python3 - "$1" "$2" <<'PY'
import sys, urllib.request
url, out = sys.argv[1], sys.argv[2]
try:
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Cache-Control": "no-store"}),
                                timeout=15) as r:
        data = r.read()
        status = r.status
except Exception as e:
    print(f"cannot fetch {url}: {e}", file=sys.stderr)
    sys.exit(1)
if status != 200:
    print(f"{url}: HTTP {status}", file=sys.stderr)
    sys.exit(1)
open(out, "wb").write(data)
PY
}

# (0) The page itself, as served: self-contained.
fetch "$URL" "$WORK/page.html" || fail "the page $URL could not be fetched"
python3 - "$WORK/page.html" <<'PY' || exit 1
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
# CSS: the <style> blocks and style="..." attributes, blanked elsewhere so that a
# match keeps its line number.
css = re.sub(r"(?is)<style\b[^>]*>(.*?)</style>|\bstyle\s*=\s*\"([^\"]*)\"|.",
             lambda m: m.group(0) if (m.group(1) is not None or m.group(2) is not None)
             else ("\n" if m.group(0) == "\n" else " "), text)
bad = []
for what, pat, where in [
    ("<script src=...>", r"<script\b[^>]*\bsrc\s*=", text),
    ("<link ...>", r"<link\b", text),
    ("<img>", r"<img\b", text),
    ("<iframe>", r"<iframe\b", text),
    ("<object>/<embed>", r"<(?:object|embed)\b", text),
    ("@import in CSS", r"@import\b", css),
    ("url(...) in CSS", r"\burl\s*\(", css),
    ("an address outside the page", r"(?:https?:)?//(?!www\.w3\.org/2000/svg\b)[A-Za-z0-9.-]+\.[A-Za-z]{2,}", text),
]:
    m = re.search(pat, where, re.I)
    if m:
        line = where.count("\n", 0, m.start()) + 1
        bad.append(f"{what} at line {line}: {m.group(0)[:60]!r}")
if bad:
    print("FAIL: the page is not self-contained:\n  " + "\n  ".join(bad), file=sys.stderr)
    sys.exit(1)
print(f"ok:      page is self-contained ({len(text)} bytes, no script, style, font or image fetched)")
PY

# (1) The JSON before, (2) the page's DOM after it has polled, (3) the JSON after.
fetch "$API" "$WORK/before.json" || fail "$API could not be fetched"
polls=0
for attempt in 1 2 3; do
    budget=$((BUDGET_MS * attempt))
    if run_chromium "$WORK/dom.html" "$WORK/dom.log" --virtual-time-budget="$budget" --dump-dom \
        && [ -s "$WORK/dom.html" ]; then
        polls=$(python3 -c 'import re,sys; m=re.search(r"<body\b[^>]*\bdata-polls=\"(\d+)\"", open(sys.argv[1]).read()); print(m.group(1) if m else 0)' "$WORK/dom.html")
        [ "$polls" -ge 1 ] && break
        echo "note:    attempt $attempt: the page had not polled successfully after ${budget} ms of virtual time; again"
    else
        echo "note:    attempt $attempt: chromium --dump-dom failed (status $?); again" >&2
        tail -n 5 "$WORK/dom.log" >&2
    fi
done
[ -s "$WORK/dom.html" ] || { tail -n 20 "$WORK/dom.log" >&2; fail "chromium gave no DOM for $URL"; }
fetch "$API" "$WORK/after.json" || fail "$API could not be fetched after the page was loaded"

python3 - "$WORK/dom.html" "$WORK/before.json" "$WORK/after.json" <<'PY' || exit 1
import html.parser, json, re, sys

dom_path, before_path, after_path = sys.argv[1:4]

class Dom(html.parser.HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []          # [tag, attrs, id-being-collected]
        self.body = None
        self.rows = {"engine": [], "call": [], "lost": [], "object": []}
        self.task_rects = 0
        self.ids = {}            # id -> text
        self.scripts = 0
        self.row = None          # the tr.* we are inside: (kind, attrs, [descendant tags])

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "body":
            self.body = a
        if tag == "script":
            self.scripts += 1
        if tag == "rect" and "task" in classes:
            self.task_rects += 1
        if self.row is not None:
            self.row[2].append(tag)
        if tag == "tr":
            for k in self.rows:
                if k in classes:
                    self.row = (k, a, [])
        if tag not in self.VOID:
            self.stack.append((tag, a.get("id")))
            if a.get("id"):
                self.ids.setdefault(a["id"], "")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break
        if tag == "tr" and self.row is not None:
            self.rows[self.row[0]].append((self.row[1], self.row[2]))
            self.row = None

    def handle_data(self, data):
        for _, i in self.stack:
            if i:
                self.ids[i] += data

dom = Dom()
dom.feed(open(dom_path, encoding="utf-8", errors="replace").read())
dom.close()
before = json.load(open(before_path))
after = json.load(open(after_path))

problems = []
def check(ok, msg):
    print(("ok:      " if ok else "MISMATCH ") + msg)
    if not ok:
        problems.append(msg)

def text_int(id_):
    if id_ not in dom.ids:
        problems.append(f"#{id_} is missing from the page")
        print(f"MISMATCH #{id_} is missing from the page")
        return None
    t = re.sub(r"[,\s\u202f\u00a0]", "", dom.ids[id_])
    try:
        return int(t)
    except ValueError:
        problems.append(f"#{id_} is not a number: {dom.ids[id_]!r}")
        print(f"MISMATCH #{id_} is not a number: {dom.ids[id_]!r}")
        return None

def counts(j):
    eng = j.get("engines") or []
    st = j.get("stream") or {}
    return {
        "engines": len(eng),
        "alive": sum(1 for e in eng if e.get("alive") is not False),
        "stream.shown": st.get("shown"),
        "stream.tasks": len(st.get("tasks") or []),
        "stream.total": st.get("total"),
        "calls": len(j.get("calls") or []),
        "lost": len(j.get("lost") or []),
        "objects": len(j.get("objects") or []),
        "title": j.get("title"),
    }

b, a = counts(before), counts(after)
for name, c in (("before", b), ("after", a)):
    if c["stream.shown"] != c["stream.tasks"]:
        print(f"note:    JSON {name}: stream.shown {c['stream.shown']} but {c['stream.tasks']} tasks sent")
    if before.get("ranks_dashboard") != 1:
        print(f"note:    JSON {name}: ranks_dashboard is {before.get('ranks_dashboard')!r}, not 1")

body = dom.body or {}
def battr(k):
    v = body.get("data-" + k)
    try:
        return int(v)
    except (TypeError, ValueError):
        return None

polls = battr("polls")
check(polls is not None and polls >= 1, f"body data-polls = {polls} (>= 1 successful poll)")
if not polls:
    print(f"         body data-fails = {battr('fails')}", file=sys.stderr)
    print("FAIL: the page never rendered a status", file=sys.stderr)
    sys.exit(1)

engine_rows = dom.rows["engine"]
alive_rows = sum(1 for r, _ in engine_rows if r.get("data-state") in ("busy", "idle"))
bad_state = [r.get("data-state") for r, _ in engine_rows if r.get("data-state") not in ("busy", "idle", "lost")]
missing_id = sum(1 for r, _ in engine_rows if r.get("data-id") in (None, ""))

# What the DOM shows, beside what the page says it rendered from its last JSON.
shown = {
    "engines": (len(engine_rows), "tr.engine rows", battr("engines")),
    "engines.total": (text_int("engines-total"), "#engines-total", battr("engines")),
    "alive": (text_int("engines-alive"), "#engines-alive", battr("alive")),
    "alive.rows": (alive_rows, "tr.engine rows busy or idle", battr("alive")),
    "stream.shown": (dom.task_rects, "rect.task", battr("stream-shown")),
    "stream.shown.text": (text_int("stream-shown"), "#stream-shown", battr("stream-shown")),
    "stream.total": (text_int("stream-total"), "#stream-total", battr("stream-total")),
    "calls": (len(dom.rows["call"]), "tr.call rows", battr("calls")),
    "calls.text": (text_int("calls-count"), "#calls-count", battr("calls")),
    "lost": (len(dom.rows["lost"]), "tr.lost rows", battr("lost")),
    "objects": (len(dom.rows["object"]), "tr.object rows", battr("objects")),
}
json_key = {"engines": "engines", "engines.total": "engines", "alive": "alive",
            "alive.rows": "alive", "stream.shown": "stream.shown",
            "stream.shown.text": "stream.shown", "stream.total": "stream.total",
            "calls": "calls", "calls.text": "calls", "lost": "lost", "objects": "objects"}

print(f"polls:   {polls} successful, {battr('fails') or 0} failed, in the page's virtual time")
for k, (got, what, rendered) in shown.items():
    jb, ja = b[json_key[k]], a[json_key[k]]
    if got is None:
        continue
    msg = f"{what} = {got}"
    ok = True
    parts = []
    if rendered is None:
        ok = False
        parts.append("the page did not record what it rendered")
    elif got != rendered:
        ok = False
        parts.append(f"the page says it rendered {rendered}")
    if jb == ja:
        if got != jb:
            ok = False
            parts.append(f"the JSON says {jb}")
        else:
            parts.append("as in the JSON")
    else:
        lo, hi = min(jb, ja), max(jb, ja)
        if not (lo <= got <= hi):
            ok = False
            parts.append(f"outside the JSON's {jb} (before) .. {ja} (after)")
        else:
            parts.append(f"within the JSON's {jb} (before) .. {ja} (after), which moved")
    check(ok, msg + (", " if ok else "; ") + "; ".join(parts))

check(not bad_state, "every tr.engine has data-state busy, idle or lost" +
      (f" (found {bad_state})" if bad_state else ""))
check(missing_id == 0, "every tr.engine has a data-id" + (f" ({missing_id} without)" if missing_id else ""))

title = (dom.ids.get("title") or "").strip()
if b["title"] == a["title"] and b["title"]:
    check(title == b["title"], f"#title = {title!r}" + ("" if title == b["title"] else f", but the JSON says {b['title']!r}"))
else:
    check(bool(title), f"#title = {title!r}")

# Text of the JSON stays text: a row holds only the page's own elements.
allowed = {"td", "span", "div"}
stray = sorted({t for rows in dom.rows.values() for _, tags in rows for t in tags} - allowed)
check(not stray, "rows hold only td/span/div (JSON text was not parsed as markup)" +
      (f"; found <{'>, <'.join(stray)}>" if stray else ""))
check(dom.scripts == 1, f"one <script> in the rendered page (found {dom.scripts})")

if problems:
    print(f"FAIL: {len(problems)} mismatch(es) between the page and its JSON:", file=sys.stderr)
    for p in problems:
        print("  " + p, file=sys.stderr)
    sys.exit(1)
PY

# (4) The screenshot.
mkdir -p "$(dirname "$SHOT")" || fail "cannot create the directory of $SHOT"
rm -f "$SHOT"
SHOT_ABS=$(cd "$(dirname "$SHOT")" && pwd)/$(basename "$SHOT")
for attempt in 1 2; do
    run_chromium "$WORK/shot.out" "$WORK/shot.log" --virtual-time-budget="$BUDGET_MS" \
        --window-size=1280,1000 --screenshot="$SHOT_ABS" && [ -s "$SHOT_ABS" ] && break
    echo "note:    attempt $attempt: chromium --screenshot gave no file; again" >&2
    tail -n 5 "$WORK/shot.log" >&2
done
[ -s "$SHOT_ABS" ] || fail "chromium wrote no screenshot to $SHOT"
python3 - "$SHOT_ABS" <<'PY' || exit 1
import struct, sys, zlib
path = sys.argv[1]
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
    print(f"FAIL: {path} is not a PNG", file=sys.stderr)
    sys.exit(1)
w, h = struct.unpack(">II", data[16:24])
problems = []
if (w, h) != (1280, 1000):
    problems.append(f"{w}x{h}, not 1280x1000")
if not 15_000 <= len(data) <= 20_000_000:
    problems.append(f"{len(data)} bytes (a rendered dashboard is tens to hundreds of KB)")
# Distinct colours in a sample of the top rows: a blank or one-colour page has very few.
colours = set()
try:
    pos, idat, depth, ctype = 8, b"", data[24], data[25]
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    bpp = {2: 3, 6: 4}.get(ctype)
    if depth == 8 and bpp:
        stride = 1 + w * bpp
        prev = bytearray(w * bpp)
        for y in range(min(h, 100)):  # the header and the tables' tops: enough, and quick
            f, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
            for i in range(len(line)):
                left = line[i - bpp] if i >= bpp else 0
                up = prev[i]
                ul = prev[i - bpp] if i >= bpp else 0
                if f == 1: line[i] = (line[i] + left) & 255
                elif f == 2: line[i] = (line[i] + up) & 255
                elif f == 3: line[i] = (line[i] + (left + up) // 2) & 255
                elif f == 4:
                    p = left + up - ul
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                    line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else ul)) & 255
            prev = line
            if y % 8 == 0:
                for x in range(0, w, 4):
                    colours.add(bytes(line[x * bpp:x * bpp + 3]))
except Exception as e:  # the size and header checks above still hold
    print(f"note:    could not decode {path} to count colours: {e}")
if colours and len(colours) < 8:
    problems.append(f"only {len(colours)} colours: a blank page?")
if problems:
    print(f"FAIL: screenshot {path}: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"ok:      screenshot {path}: PNG {w}x{h}, {len(data)} bytes" +
      (f", {len(colours)} colours in a sample" if colours else ""))
PY

echo "PASS: $URL"
