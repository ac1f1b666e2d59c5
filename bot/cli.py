"""Command line: ask, chat, eval, check, run, identity. The answering path never imports
matrix-nio."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

from bot import __version__
from bot.config import DEFAULT_KNOWLEDGE_DIR


def knowledge_dir(arg: str | None) -> Path:
    return Path(arg or os.environ.get("TCHAP_BOT_KNOWLEDGE") or DEFAULT_KNOWLEDGE_DIR)


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from bot.knowledge import KnowledgeError, format_problem, load_knowledge

    try:
        return load_knowledge(knowledge_dir(args.knowledge), today=args.today)
    except KnowledgeError as error:
        for problem in error.problems:
            print(format_problem(problem), file=sys.stderr)
        raise SystemExit(1) from None


def _questions(args: argparse.Namespace) -> Iterator[str]:
    if args.question:
        yield " ".join(args.question)
        return
    # One reply per input line, blank lines included, so outputs line up with inputs.
    for line in sys.stdin:
        yield line.rstrip("\r\n")


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.core import answer

    knowledge = _load(args)
    out = sys.stdout
    for question in _questions(args):
        reply, _ = answer(question, knowledge, today=args.today)
        if args.json:
            out.write(json.dumps(reply.to_json(), ensure_ascii=False) + "\n")
        else:
            out.write(reply.text + "\n\n")
        out.flush()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.core import Context, answer

    knowledge = _load(args)
    context = Context()
    interactive = sys.stdin.isatty()
    print("tchap-bot — posez votre question (Ctrl-D pour quitter).\n")
    reply, _ = answer("aide", knowledge, today=args.today)
    print(reply.text + "\n")
    while True:
        try:
            question = input("vous> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not question.strip():
            continue
        if not interactive:
            print(f"vous> {question}")
        reply, context = answer(question, knowledge, context, today=args.today)
        print(f"\n{reply.text}\n")


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.core import answer
    from bot.evaluation import evaluate, load_cases

    knowledge = _load(args)
    cases = load_cases(Path(args.file))
    result = evaluate(cases, lambda q: answer(q, knowledge, today=args.today)[0])
    for case, reply, problems in result.failures:
        print(f"FAIL {case.q!r}: {'; '.join(problems)}")
        if args.verbose:
            print("    " + reply.text.replace("\n", "\n    "))
    print(f"accuracy: {result.passed}/{result.total}")
    if args.min_accuracy is not None and result.passed < args.min_accuracy * result.total:
        print(f"below the required {args.min_accuracy:.0%}", file=sys.stderr)
        return 1
    return 0


def _check_settings(config_path: Path) -> tuple[Path | None, int]:
    """``knowledge_dir`` and ``ops.knowledge.warn_days`` of a bot config (no secrets read)."""
    import yaml

    from bot.ops.settings import parse_ops_settings

    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        print(f"{config_path}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        print(f"{config_path}: the top level must be a mapping of keys", file=sys.stderr)
        raise SystemExit(2)
    ops, errors = parse_ops_settings(raw.get("ops"))
    for error in errors:
        print(f"{config_path}: {error}", file=sys.stderr)
    if errors:
        raise SystemExit(2)
    value = raw.get("knowledge_dir")
    directory = None
    if isinstance(value, str) and value.strip():
        directory = Path(value).expanduser()
        directory = directory if directory.is_absolute() else config_path.parent / directory
    return directory, ops.knowledge.warn_days


def cmd_check(args: argparse.Namespace) -> int:
    from bot.knowledge import check_knowledge, format_problem

    configured_dir, warn_days = None, 30
    if args.config:
        configured_dir, warn_days = _check_settings(Path(args.config))
    if args.warn_days is not None:
        warn_days = args.warn_days
    if args.directory:
        directory = Path(args.directory)
    elif args.knowledge or configured_dir is None:
        directory = knowledge_dir(args.knowledge)
    else:
        directory = configured_dir
    knowledge, problems = check_knowledge(directory, args.today or date.today(), warn_days)
    for problem in problems:
        print(
            format_problem(problem), file=sys.stderr if problem.severity == "error" else sys.stdout
        )
    errors = sum(p.severity == "error" for p in problems)
    if knowledge is None or errors:
        print(f"{directory}: {errors} erreur(s)", file=sys.stderr)
        return 1
    print(
        f"{directory}: OK — {len(knowledge.needs)} besoins, {len(knowledge.tools)} outils, "
        f"{len(knowledge.tips)} astuces, {len(problems)} avertissement(s)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.matrix.main import run  # the only path that imports matrix-nio

    return run(Path(args.config))


def cmd_identity(args: argparse.Namespace) -> int:
    from bot.matrix.identity_cli import main as identity_main

    return identity_main(Path(args.config), args.action, prune=args.prune, yes=args.yes)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="tchap-bot", description=__doc__)
    top.add_argument("--version", action="version", version=f"tchap-bot {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--knowledge", metavar="DIR", help="knowledge directory")
    common.add_argument(
        "--today", type=date.fromisoformat, metavar="YYYY-MM-DD", help="date used for dated offers"
    )
    sub = top.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", parents=[common], help="answer questions (argument or stdin)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("question", nargs="*")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", parents=[common], help="interactive console")
    chat.set_defaults(func=cmd_chat)

    ev = sub.add_parser("eval", parents=[common], help="measure answer quality on a set")
    ev.add_argument("file")
    ev.add_argument("--min-accuracy", type=float, metavar="RATIO")
    ev.add_argument("-v", "--verbose", action="store_true", help="print failing replies")
    ev.set_defaults(func=cmd_eval)

    check = sub.add_parser("check", parents=[common], help="validate the knowledge files")
    check.add_argument("directory", nargs="?")
    check.add_argument(
        "--warn-days",
        type=int,
        help="warn this many days before a dated entry expires (default: the config's "
        "ops.knowledge.warn_days, else 30)",
    )
    check.add_argument(
        "--config",
        metavar="FILE",
        help="the bot's config: its knowledge_dir and ops.knowledge.warn_days",
    )
    check.set_defaults(func=cmd_check)

    run = sub.add_parser("run", help="run the bot on a Matrix homeserver")
    run.add_argument("--config", required=True, metavar="FILE")
    run.set_defaults(func=cmd_run)

    ident = sub.add_parser(
        "identity", help="the bot's cross-signing identity: status, or reset (bot stopped)"
    )
    ident.add_argument("action", choices=("status", "reset"))
    ident.add_argument("--config", required=True, metavar="FILE")
    ident.add_argument(
        "--prune", action="store_true", help="status: delete the account's old unsigned devices"
    )
    ident.add_argument("--yes", action="store_true", help="reset: do not ask for confirmation")
    ident.set_defaults(func=cmd_identity)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `tchap-bot ask ... | head`
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
