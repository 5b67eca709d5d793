"""Run `rasa data validate --fail-on-warnings` and fail on any warning about the project's data.

Usage:
    python -m bot.validate     (make validate; bot.retrain checks its data with `validate()`)

Rasa's own flag lets warnings raised while reading the data through, so this reads them from the output.
Two are expected: Rasa 3.6 adds the retrieval intents to the domain a second time and then warns that the
domain (as its documentation asks) lists them twice; and it calls a response that only an action or a form
sends "not used in any story or rule".
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

__all__ = ["validate"]

EXPECTED = (
    "The following duplicated intents have been found across multiple domain files: complaint, info, welfare"
)
UNUSED = re.compile(r"The utterance '(utter_[\w/]+)' is not used in any story or rule\.")
ROOT = Path(__file__).resolve().parent.parent
# Retrieval intents: their responses are chosen by the response selector and sent by actions.
SENT_BY_ACTIONS = {"utter_complaint", "utter_welfare", "utter_info"}


def sent_by_actions() -> set[str]:
    """Return the responses named in the actions' code, the forms' questions and the retrieval responses."""
    names = set(SENT_BY_ACTIONS)
    for path in (ROOT / "actions").glob("*.py"):
        names |= set(re.findall(r"[\"'](utter_\w+)", path.read_text(encoding="utf-8")))
    return names


def allowed(message: str, by_actions: set[str]) -> bool:
    """Return whether MESSAGE is one of the warnings that are expected."""
    unused = UNUSED.fullmatch(message)
    if unused:
        name = unused.group(1)
        return name in by_actions or name.startswith("utter_ask_")
    return message == EXPECTED


# rasa.shared.utils.io.raise_warning: how Rasa reports problems in the training data and domain.
RASA_WARNING = re.compile(r"rasa/shared/utils/io\.py:\d+: UserWarning: (.*)")


def validate(
    *, domain: Path = ROOT / "domain.yml", data: Path = ROOT / "data", config: Path = ROOT / "config.yml"
) -> tuple[bool, str, list[str]]:
    """Run `rasa data validate` on the files; return (passed, Rasa's output, unexpected warnings)."""
    rasa = Path(sys.executable).with_name("rasa")
    command = [str(rasa), "data", "validate", "--fail-on-warnings"]
    command += ["--domain", str(domain), "--data", str(data), "--config", str(config)]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    output = proc.stdout + proc.stderr
    lines = output.splitlines()
    by_actions = sent_by_actions()
    warnings = []
    for i, line in enumerate(lines):
        match = RASA_WARNING.search(line)
        if match:
            # The message may continue on the next line (file name first, problem after).
            message = match.group(1).strip() or (lines[i + 1].strip() if i + 1 < len(lines) else "")
            if match.group(1).strip().startswith("Issue found") and i + 1 < len(lines):
                message = f"{match.group(1).strip()} {lines[i + 1].strip()}"
            if not allowed(message, by_actions):
                warnings.append(message)
    return proc.returncode == 0 and not warnings, output, warnings


def main() -> int:
    """Validate the project's data; print unexpected warnings and return 1 if there are any."""
    passed, output, warnings = validate()
    if not passed:
        print(output if not warnings else "", end="")
        for warning in warnings:
            print(f"validate: {warning}")
        return 1
    print("rasa data validate: no warnings (besides the expected ones: see bot/validate.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
