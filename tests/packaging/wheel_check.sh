#!/usr/bin/env bash
# What an operator gets from `pip install tchap_bot-*.whl`: the wheel is built from the
# working tree, installed into a fresh virtualenv outside the checkout, and the CLI is run
# from another directory, with the knowledge the wheel ships and nothing from the checkout.
# Fails loudly (exit 1, the step named) when any step fails. `make wheel-check` runs it.
#
#   PYTHON=.venv/bin/python tests/packaging/wheel_check.sh   # any Python >= 3.11 with pip
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-python3}
PIP_QUIET=(--disable-pip-version-check -qq)
started=$EPOCHREALTIME
work=$(mktemp -d "${TMPDIR:-/tmp}/tchap-bot-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
    echo "wheel check FAILED: $*" >&2
    exit 1
}
step() { echo "wheel check: $*"; }

# Build from a copy of the files git would commit (tracked and untracked, not ignored): an
# in-tree build would leave build/ behind, and a stale build/ puts deleted modules in wheels.
step "building the wheel"
mkdir "$work/src"
(
    cd "$ROOT"
    git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done \
        | xargs -0 cp --parents -t "$work/src"  # deleted but tracked files are skipped
) || fail "copying the working tree"
"$PYTHON" -m pip wheel "${PIP_QUIET[@]}" --no-deps -w "$work/dist" "$work/src" \
    || fail "building the wheel"
wheels=("$work"/dist/tchap_bot-*.whl)
[ -f "${wheels[0]}" ] || fail "no tchap_bot-*.whl was built"
wheel=${wheels[0]}

step "checking its contents"
"$PYTHON" - "$wheel" "$work/src" <<'PY' || fail "the wheel's contents"
import sys, zipfile
from pathlib import Path

wheel, src = sys.argv[1], Path(sys.argv[2])
names = set(zipfile.ZipFile(wheel).namelist())
expected = {p.relative_to(src).as_posix() for p in (src / "bot").rglob("*.py")}
expected.add("bot/knowledge/schema.json")
expected |= {f"bot/shipped_knowledge/{p.name}" for p in (src / "knowledge").glob("*.yaml")}
missing = sorted(expected - names)
if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
    missing.append("LICENSE (in .dist-info/licenses/)")
if missing:
    sys.exit("missing from the wheel: " + ", ".join(missing))
PY

step "installing it into a fresh virtualenv"
# For speed, without a pip of its own (ensurepip costs ~5 s; this pip installs into it
# with --python) and without byte-compiling every dependency (what runs compiles itself).
"$PYTHON" -m venv --without-pip "$work/venv" || fail "creating the virtualenv"
"$PYTHON" -m pip --python "$work/venv/bin/python" install "${PIP_QUIET[@]}" --no-compile "$wheel" \
    || fail "installing the wheel"

# From outside the checkout, with nothing pointing back at it.
python="$work/venv/bin/python"
bot="$work/venv/bin/tchap-bot"
cd "$work"
unset PYTHONPATH TCHAP_BOT_KNOWLEDGE
version=$("$python" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
    "$ROOT/pyproject.toml")

step "tchap-bot --version"
out=$("$bot" --version) || fail "tchap-bot --version exited $?"
[ "$out" = "tchap-bot $version" ] || fail "tchap-bot --version printed '$out', not 'tchap-bot $version'"

step "tchap-bot ask --json 'visio a 60'"
out=$("$bot" ask --json "visio a 60") || fail "tchap-bot ask exited $?"
# The measurement's contract (shared/eval/README.md): a webinar of 60 is Lifesize's.
"$python" -c '
import json, sys
reply = json.loads(sys.argv[1])
assert reply["subject"] in ("tool:lifesize", "need:web_conference"), reply["subject"]
assert "Lifesize" in reply["text"] and reply["html"].startswith("<"), reply["text"]
' "$out" || fail "tchap-bot ask --json answered: $out"

step "tchap-bot check"
out=$("$bot" check) || fail "tchap-bot check exited $?: $out"
case "${out##*$'\n'}" in  # its last line sums up (warnings come before)
    "$work/venv/"*"/bot/shipped_knowledge: OK"*) ;;
    *) fail "tchap-bot check did not check the shipped knowledge: $out" ;;
esac

elapsed=$("$python" -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' \
    "$started" "$EPOCHREALTIME")
step "OK — $(basename "$wheel") built, installed and run in $elapsed s"
