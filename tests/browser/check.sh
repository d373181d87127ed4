#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through check and trap
# tests/browser/check.sh: nines' HTML reports in a real browser.
#
# Builds nines (release), writes the run report of scenarios/ec2-two-zones.json
# (2,000 trials) and the comparison report of ec2-one-zone.json against it, and has
# headless Chromium render each to a PNG and dump the DOM it built. Checks that each
# PNG shows a page with its charts (a PNG decoder from python3's standard library
# counts the distinct colours, a blank page having one, and the pixels of the charts'
# own colours) and that each DOM holds the expected headings and every inline SVG.
#
# Installs Debian's chromium if it is missing (root only). Without chromium and
# without root (or if the install fails) it fails unless NINES_SKIP_BROWSER=1, which
# makes it print SKIPPED and exit 0. Every browser run is bounded by `timeout`.
#
# Prints "browser: N passed, 0 failed" (exit 0) or "browser: X passed, Y failed"
# (exit 1). Environment: NINES (a nines binary; default: cargo build --release),
# NINES_BROWSER_KEEP=1 (keep the temporary directory, to look at the PNGs).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo" || exit 1

BROWSER_WAIT=120   # seconds for one headless browser run
INSTALL_WAIT=900   # seconds for apt-get update, and again for apt-get install
BUILD_WAIT=1800    # seconds for cargo build --release

t0=$SECONDS
passed=0
failed=0
tmp=$(mktemp -d)

log() { echo "browser: $*"; }

cleanup() {
    if [[ ${NINES_BROWSER_KEEP:-} == 1 ]]; then
        log "kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

summary() {
    log "$passed passed, $failed failed ($((SECONDS - t0)) s)"
    exit $((failed > 0))
}

check() { # NAME COMMAND...: runs one check and counts it
    local name=$1
    shift
    local out
    if out=$("$@" 2>&1); then
        passed=$((passed + 1))
        log "ok    $name${out:+: $out}"
    else
        failed=$((failed + 1))
        log "FAIL  $name: $out"
    fi
}

skip_or_fail() {
    if [[ ${NINES_SKIP_BROWSER:-} == 1 ]]; then
        log "SKIPPED: $* (NINES_SKIP_BROWSER=1)"
        exit 0
    fi
    log "FAIL: $* (set NINES_SKIP_BROWSER=1 to skip this test)"
    failed=$((failed + 1))
    summary
}

find_browser() {
    local b
    for b in chromium chromium-browser; do
        command -v "$b" && return 0
    done
    return 1
}

# --- a browser -----------------------------------------------------------------
if ! browser=$(find_browser); then
    [[ $(id -u) -eq 0 ]] || skip_or_fail "chromium is missing, and installing it needs root"
    log "installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    if ! { timeout "$INSTALL_WAIT" apt-get update -qq &&
        timeout "$INSTALL_WAIT" apt-get install -y -qq --no-install-recommends chromium; } \
        >"$tmp/apt.log" 2>&1; then
        tail -n 20 "$tmp/apt.log"
        skip_or_fail "could not install chromium"
    fi
    browser=$(find_browser) || skip_or_fail "chromium is still missing after apt-get install"
fi
log "using $browser ($(timeout 30 "$browser" --version 2>/dev/null || echo "version unknown"))"

# --- the reports ---------------------------------------------------------------
if [[ -z ${NINES:-} ]]; then
    timeout "$BUILD_WAIT" cargo build --release --quiet || {
        failed=$((failed + 1))
        log "FAIL: cargo build --release"
        summary
    }
    NINES=$repo/target/release/nines
fi
if ! timeout 300 "$NINES" run scenarios/ec2-two-zones.json --trials 2000 --quiet \
    --report "$tmp/run.html" ||
    ! timeout 300 "$NINES" compare scenarios/ec2-one-zone.json scenarios/ec2-two-zones.json \
        --trials 2000 --quiet --report "$tmp/compare.html"; then
    failed=$((failed + 1))
    log "FAIL: nines could not write the reports"
    summary
fi

# --- rendering -----------------------------------------------------------------
chromium_run() { # NAME MODE-ARGUMENT...: headless, with a fresh profile, bounded
    local name=$1
    shift
    local profile
    profile=$(mktemp -d "$tmp/profile.XXXXXX")
    timeout -k 10 "$BROWSER_WAIT" "$browser" --headless --no-sandbox --disable-gpu \
        --disable-quic --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --user-data-dir="$profile" \
        --window-size=1200,3000 "$@" "file://$tmp/$name.html"
}

render() { # NAME: the PNG and the DOM
    if ! chromium_run "$1" --screenshot="$tmp/$1.png" >"$tmp/$1.screenshot.log" 2>&1 ||
        ! chromium_run "$1" --dump-dom >"$tmp/$1.dom" 2>"$tmp/$1.dom.log" ||
        [[ ! -s $tmp/$1.png || ! -s $tmp/$1.dom ]]; then
        tail -n 5 "$tmp/$1.screenshot.log" "$tmp/$1.dom.log"
        return 1
    fi
    echo "$(wc -c <"$tmp/$1.png") bytes of PNG, $(wc -c <"$tmp/$1.dom") of DOM"
}

# PNG PATTERN=R,G,B:MIN...: the picture is not blank (many colours, some ink), and
# each named colour (within 3 per channel) covers at least MIN pixels.
pixels() {
    python3 - "$@" <<'EOF'
import struct, sys, zlib

def decode(path):
    """RGB(A) rows of an 8-bit, non-interlaced PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        pos += 12 + size
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace or colour not in (2, 6):
                sys.exit(f"unexpected PNG format: depth {depth}, colour type {colour}")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if kind == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + (left + prev[x]) // 2) & 255
        elif kind == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b, c = prev[x], prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, bpp, rows

width, height, bpp, rows = decode(sys.argv[1])
counts = {}
for row in rows:
    for x in range(0, len(row), bpp):
        key = bytes(row[x:x + 3])
        counts[key] = counts.get(key, 0) + 1
total = width * height
ink = total - counts.get(b"\xff\xff\xff", 0)
problems = []
if len(counts) < 100:
    problems.append(f"only {len(counts)} distinct colours")
if ink < total // 50:
    problems.append(f"only {ink} of {total} pixels are not white")
found = []
for wanted in sys.argv[2:]:
    name, spec = wanted.split("=")
    rgb, least = spec.split(":")
    r, g, b = map(int, rgb.split(","))
    n = sum(c for k, c in counts.items()
            if abs(k[0] - r) <= 3 and abs(k[1] - g) <= 3 and abs(k[2] - b) <= 3)
    found.append(f"{name} {n}")
    if n < int(least):
        problems.append(f"{name} covers {n} pixels, expected at least {least}")
print(f"{width}x{height}, {len(counts)} colours, {100 * ink / total:.1f} % ink; " + ", ".join(found))
sys.exit("; ".join(problems) if problems else 0)
EOF
}

# DOM TEXT...: the DOM holds each text, and as many <svg> elements as the file.
dom_has() {
    local name=$1
    shift
    local missing=() text
    for text in "$@"; do
        grep -qF -- "$text" "$tmp/$name.dom" || missing+=("$text")
    done
    local in_file in_dom
    in_file=$(grep -o "<svg" "$tmp/$name.html" | wc -l)
    in_dom=$(grep -o "<svg" "$tmp/$name.dom" | wc -l)
    if [[ ${#missing[@]} -gt 0 ]]; then
        echo "missing: ${missing[*]}"
        return 1
    fi
    if [[ $in_dom -ne $in_file || $in_dom -eq 0 ]]; then
        echo "$in_dom <svg> in the DOM, $in_file in the file"
        return 1
    fi
    echo "$# texts and $in_dom charts"
}

# Colours of the charts (see STYLE in src/html.rs).
GREEN=89,161,79   # bands that meet the target
RED=214,69,65     # breaching bands, the worst year, outages
BLUE=76,120,168   # bars of the comparison

check "run report renders" render run
# Red's area depends on the sample (its worst year's outages: 184 pixels for these 2,000
# trials); a page whose charts lack it has none.
check "run report is a picture with its charts" pixels "$tmp/run.png" \
    "green=$GREEN:2000" "red=$RED:100"
check "run report DOM" dom_has run \
    "<h1>EC2: four instances in two zones (us-east, us-west)</h1>" \
    "<h2>ec2 " "availability" "Downtime per year" \
    "SLA: EC2 region SLA (current): 99.99% a month" "A sample year" "component failures"

check "comparison report renders" render compare
check "comparison report is a picture with its charts" pixels "$tmp/compare.png" \
    "blue=$BLUE:2000"
check "comparison report DOM" dom_has compare \
    "<h1>Comparison of 2 designs</h1>" "<h2>ec2 " "availability" \
    "SLA: EC2 SLA (2008): 99.95% a service year" "Differences to A" "★ yes"

summary
