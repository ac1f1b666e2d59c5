#!/usr/bin/env bash
# What an operator gets from `make wheel` and `pip install tchap_bot-*.whl`: the wheel is
# built from the working tree with its core compiled by mypyc (setup.py), installed into a
# fresh virtualenv outside the checkout, and the CLI is run from another directory, with
# the knowledge the wheel ships and nothing from the checkout; then the installed core
# answers every question of every evaluation set, and its replies must be byte for byte
# those of the checkout's Python sources. Fails loudly (exit 1, the step named) when any
# step fails. `make wheel-check` runs it.
#
#   PYTHON=.venv/bin/python tests/packaging/wheel_check.sh   # the project's virtualenv
#   TCHAP_BOT_COMPILE=0 ...     # the pure wheel (`pip wheel .`): no extensions expected
#   WHEEL_VENV=DIR ...          # keep the installed virtualenv in DIR (make bench uses it)
#   WHEEL_DIST=DIR ...          # copy the wheel into DIR (make wheel)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-python3}
export TCHAP_BOT_COMPILE=${TCHAP_BOT_COMPILE:-1}
PIP_QUIET=(--disable-pip-version-check -qq)
started=$EPOCHREALTIME
work=$(mktemp -d "${TMPDIR:-/tmp}/tchap-bot-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
venv=${WHEEL_VENV:-$work/venv}

fail() {
    echo "wheel check FAILED: $*" >&2
    exit 1
}
step() { echo "wheel check: $*"; }

# Build from a copy of the files git would commit (tracked and untracked, not ignored): an
# in-tree build would leave build/ behind, and a stale build/ puts deleted modules in wheels.
if [ "$TCHAP_BOT_COMPILE" = 1 ] && ! command -v "${CC:-cc}" >/dev/null; then
    fail "compiling the core needs a C compiler (${CC:-cc}; apt-get install gcc), or TCHAP_BOT_COMPILE=0 for the pure wheel"
fi
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
if [ -n "${WHEEL_DIST:-}" ]; then  # make wheel: the wheel this check passes, for operators
    mkdir -p "$WHEEL_DIST" && cp "$wheel" "$WHEEL_DIST/" || fail "copying the wheel to $WHEEL_DIST"
fi

step "checking its contents"
"$PYTHON" - "$wheel" "$work/src" "$TCHAP_BOT_COMPILE" <<'PY' || fail "the wheel's contents"
import sys, sysconfig, zipfile
from pathlib import Path

wheel, src, compiled = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1"
names = set(zipfile.ZipFile(wheel).namelist())
expected = {p.relative_to(src).as_posix() for p in (src / "bot").rglob("*.py")}
expected.add("bot/knowledge/schema.json")
expected |= {f"bot/shipped_knowledge/{p.name}" for p in (src / "knowledge").glob("*.yaml")}
suffix = sysconfig.get_config_var("EXT_SUFFIX")
core = {f"bot/core/{p.stem}{suffix}" for p in (src / "bot" / "core").glob("*.py")}
extensions = {n for n in names if n.endswith(suffix)}
if compiled:
    expected |= core
elif extensions:
    sys.exit("extensions in the pure wheel: " + ", ".join(sorted(extensions)))
missing = sorted(expected - names)
if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
    missing.append("LICENSE (in .dist-info/licenses/)")
if missing:
    sys.exit("missing from the wheel: " + ", ".join(missing))
PY

step "installing it into a fresh virtualenv"
# For speed, without a pip of its own (ensurepip costs ~5 s; this pip installs into it
# with --python) and, unless the virtualenv is kept, without byte-compiling every
# dependency (what runs compiles itself); a kept one is byte-compiled as pip installs.
compile=(--no-compile)
if [ -n "${WHEEL_VENV:-}" ]; then compile=(); rm -rf "$venv"; fi
"$PYTHON" -m venv --without-pip "$venv" || fail "creating the virtualenv"
"$PYTHON" -m pip --python "$venv/bin/python" install "${PIP_QUIET[@]}" "${compile[@]}" "$wheel" \
    || fail "installing the wheel"

# From outside the checkout, with nothing pointing back at it.
python="$venv/bin/python"
bot="$venv/bin/tchap-bot"
cd "$work"
unset PYTHONPATH TCHAP_BOT_KNOWLEDGE
version=$("$python" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
    "$ROOT/pyproject.toml")

step "tchap-bot --version"
out=$("$bot" --version) || fail "tchap-bot --version exited $?"
want="tchap-bot $version"
if [ "$TCHAP_BOT_COMPILE" = 1 ]; then want="$want (core compiled by mypyc)"; fi
[ "$out" = "$want" ] || fail "tchap-bot --version printed '$out', not '$want'"

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
    "$venv/"*"/bot/shipped_knowledge: OK"*) ;;
    *) fail "tchap-bot check did not check the shipped knowledge: $out" ;;
esac

step "every reply of every evaluation set, as the checkout's sources give it"
# tests.bench.eval_dump from the checkout, run by the installed bot (a directory holding
# only a link to tests/ is on its path) and by the sources; the dumps must be identical.
mkdir "$work/path" && ln -s "$ROOT/tests" "$work/path/tests"
PYTHONPATH="$work/path" "$python" -m tests.bench.eval_dump >"$work/installed.jsonl" \
    || fail "the installed bot's replies (tests.bench.eval_dump)"
(cd "$ROOT" && "$PYTHON" -m tests.bench.eval_dump) >"$work/sources.jsonl" \
    || fail "the sources' replies (tests.bench.eval_dump)"
replies=$(wc -l <"$work/sources.jsonl")
[ "$replies" -gt 100 ] || fail "only $replies replies were dumped"
cmp -s "$work/sources.jsonl" "$work/installed.jsonl" \
    || fail "the installed bot's replies differ from the sources': $(diff "$work/sources.jsonl" "$work/installed.jsonl" | head -c 2000)"

elapsed=$("$python" -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' \
    "$started" "$EPOCHREALTIME")
step "OK — $(basename "$wheel") built, installed and run ($replies replies identical) in $elapsed s"
