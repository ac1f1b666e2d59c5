"""The bot's real entry point with one fault installed, for the failing-handler test.

`python -m tests.integration.faulty_bot run --config ...` is `tchap-bot run --config ...`,
except that a question equal to `$TCHAP_BOT_TEST_FAULT_TRIGGER` makes the answer function
raise. The fault wraps the bot's own `core_responder` before `main` builds the bot, so the
failure goes through the real transport (notice, sync position, no second answer), and the
production code knows nothing about it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import bot.matrix.main as bot_main
from bot.cli import main
from bot.core import Context
from bot.knowledge.holder import KnowledgeHolder
from bot.matrix.questions import Answer, Question

FAULT_TRIGGER_ENV = "TCHAP_BOT_TEST_FAULT_TRIGGER"
FAULT_MESSAGE = "fault injected for tests"

CoreResponder = Callable[[Question, Context | None], Answer]


def install_fault(trigger: str) -> None:
    """From now on, the bot's answer function raises on the question `trigger`."""
    real = bot_main.core_responder

    def faulty_core_responder(
        holder: KnowledgeHolder, audience_servers: tuple[str, ...] = ()
    ) -> CoreResponder:
        respond = real(holder, audience_servers)

        def faulty(question: Question, context: Context | None) -> Answer:
            if question.text == trigger:
                raise RuntimeError(f"{FAULT_MESSAGE} ({FAULT_TRIGGER_ENV})")
            return respond(question, context)

        return faulty

    bot_main.core_responder = faulty_core_responder


if __name__ == "__main__":
    install_fault(os.environ[FAULT_TRIGGER_ENV])
    raise SystemExit(main())
