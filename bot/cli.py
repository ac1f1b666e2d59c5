"""Command line: ask, chat, eval, check, run, identity. The answering path never imports
matrix-nio."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Not bot.config: `ask` and `chat` need no configuration reader (cold start).
from bot.knowledge.shipped import POLE_SERVERS, shipped_knowledge_dir

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core import Context, Reply
    from bot.core.audience import Audience


def knowledge_dir(arg: str | None) -> Path:
    return Path(arg or os.environ.get("TCHAP_BOT_KNOWLEDGE") or shipped_knowledge_dir())


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from bot.core import prepare
    from bot.knowledge.loader import load_knowledge
    from bot.knowledge.problems import KnowledgeError, format_problem

    try:
        return prepare(load_knowledge(knowledge_dir(args.knowledge), today=args.today))
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


def _audience(args: argparse.Namespace) -> Audience:
    """An agent of ``--audience-server`` (default: one of the guide's audience)."""
    from bot.core.audience import Audience

    return Audience(frozenset(POLE_SERVERS), getattr(args, "audience_server", None))


def _line(line: str) -> tuple[str | None, str]:
    """(conversation id, question) of an input line: a JSON object
    ``{"conversation": ID, "q": ...}`` or a plain question (shared/eval/README.md)."""
    if not line.lstrip().startswith("{"):
        return None, line
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError:
        return None, line
    if not isinstance(data, dict):
        return None, line
    conversation = data.get("conversation")
    return (None if conversation is None else str(conversation)), str(data.get("q", ""))


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.core import answer

    knowledge = _load(args)
    audience = _audience(args)
    out = sys.stdout
    # One context per conversation id, as the Matrix bot keeps one per (room, agent).
    contexts: dict[str, Context] = {}
    for line in _questions(args):
        conversation, question = _line(line)
        context = contexts.get(conversation) if conversation is not None else None
        reply, after = answer(question, knowledge, context, today=args.today, audience=audience)
        if conversation is not None:
            contexts[conversation] = after
        if args.json:
            out.write(json.dumps(reply.to_json(), ensure_ascii=False) + "\n")
        else:
            out.write(reply.text + "\n\n")
        out.flush()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.core import Context, answer

    knowledge = _load(args)
    audience = _audience(args)
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
        reply, context = answer(question, knowledge, context, today=args.today, audience=audience)
        print(f"\n{reply.text}\n")


def cmd_eval(args: argparse.Namespace) -> int:
    """Failing cases, then per file ``accuracy: N/M`` and, for conversations,
    ``conversations: N/M (turns: a/b)`` last; ``--lengths`` adds the reply lengths."""
    from bot.core import Context, answer
    from bot.evaluation import evaluate, evaluate_dialogues, lengths, load_set

    knowledge = _load(args)
    audience = _audience(args)

    def ask(question: str) -> Reply:
        return answer(question, knowledge, today=args.today, audience=audience)[0]

    def start() -> Callable[[str], Reply]:
        context = Context()

        def ask_in_turn(question: str) -> Reply:
            nonlocal context
            reply, context = answer(
                question, knowledge, context, today=args.today, audience=audience
            )
            return reply

        return ask_in_turn

    failed = False
    all_lengths: list[int] = []
    summaries: list[str] = []
    for name in args.file:
        cases, dialogues = load_set(Path(name))
        if len(args.file) > 1:
            print(f"== {name}")
        lines: list[str] = []
        ratio: tuple[int, int] | None = None
        if cases or not dialogues:
            result = evaluate(cases, ask)
            all_lengths += result.lengths
            for case, reply, problems in result.failures:
                _fail(f"FAIL {case.q!r}: {'; '.join(problems)}", reply, args.verbose)
            lines.append(f"accuracy: {result.passed}/{result.total}")
            ratio = (result.passed, result.total)
        if dialogues:
            talks = evaluate_dialogues(dialogues, start)
            all_lengths += talks.turns.lengths
            for title, n, case, reply, problems in talks.failed:
                _fail(
                    f"FAIL [{title}] turn {n} {case.q!r}: {'; '.join(problems)}",
                    reply,
                    args.verbose,
                )
            turns = talks.turns
            lines.append(
                f"conversations: {talks.passed}/{talks.total} (turns: {turns.passed}/{turns.total})"
            )
            ratio = (talks.passed, talks.total)  # whole conversations are what counts
        if len(args.file) > 1 or not args.lengths:
            print("\n".join(lines))
        else:
            summaries = lines
        assert ratio is not None
        if args.min_accuracy is not None and ratio[0] < args.min_accuracy * ratio[1]:
            print(f"{name}: below the required {args.min_accuracy:.0%}", file=sys.stderr)
            failed = True
    if args.lengths:
        figures = lengths(all_lengths)
        if figures is not None:
            print(figures.line())
        if summaries:
            print("\n".join(summaries))
    return 1 if failed else 0


def _fail(line: str, reply: Reply, verbose: bool) -> None:
    print(line)
    if verbose:
        print("    " + reply.text.replace("\n", "\n    "))


def _check_config(config_path: Path) -> Config:
    """The bot's config, read as ``run`` reads it but without its secrets; exit 2 if invalid."""
    from bot.config import ConfigError, load_config

    try:
        return load_config(config_path, secrets_required=False)
    except ConfigError as exc:
        print(f"{config_path}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_check(args: argparse.Namespace) -> int:
    from bot.config import KnowledgeOpsSettings
    from bot.knowledge.check import check_knowledge
    from bot.knowledge.problems import format_problem

    config = _check_config(Path(args.config)) if args.config else None
    ops = KnowledgeOpsSettings() if config is None else config.ops.knowledge
    warn_days = ops.warn_days
    if args.warn_days is not None:
        warn_days = args.warn_days
    if args.directory:
        directory = Path(args.directory)
    elif args.knowledge or config is None:
        directory = knowledge_dir(args.knowledge)
    else:
        directory = config.knowledge_dir
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


class _Version(argparse.Action):
    """argparse's "version" action, with the version read only when asked for (bot.__init__)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        import importlib.util

        import bot

        # Where the core's modules load from, without importing them: C extensions built by
        # mypyc (setup.py), or the Python sources.
        spec = importlib.util.find_spec("bot.core.matcher")
        compiled = spec is not None and not (spec.origin or "").endswith(".py")
        build = " (core compiled by mypyc)" if compiled else ""
        print(f"tchap-bot {bot.__version__}{build}")  # on stdout, as argparse's own action
        parser.exit()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="tchap-bot", description=__doc__)
    top.add_argument("--version", action=_Version)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--knowledge", metavar="DIR", help="knowledge directory")
    common.add_argument(
        "--today", type=date.fromisoformat, metavar="YYYY-MM-DD", help="date used for dated offers"
    )
    audience = argparse.ArgumentParser(add_help=False)
    audience.add_argument(
        "--audience-server",
        metavar="SERVER",
        help="ask as an agent of this homeserver (the guide's audience: "
        + ", ".join(POLE_SERVERS)
        + ")",
    )
    sub = top.add_subparsers(dest="command", required=True)

    ask = sub.add_parser(
        "ask", parents=[common, audience], help="answer questions (argument or stdin)"
    )
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("question", nargs="*")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", parents=[common, audience], help="interactive console")
    chat.set_defaults(func=cmd_chat)

    ev = sub.add_parser("eval", parents=[common, audience], help="measure answer quality on a set")
    ev.add_argument("file", nargs="+", help="question or conversation sets")
    ev.add_argument(
        "--min-accuracy",
        type=float,
        metavar="RATIO",
        help="fail below this share (of whole conversations, for conversation sets)",
    )
    ev.add_argument("--lengths", action="store_true", help="print the median and p90 reply lengths")
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
        help="the bot's config, checked as `run` reads it (secrets aside); its knowledge_dir "
        "and ops.knowledge.warn_days are used",
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
