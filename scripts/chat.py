"""Chat with the running bot in a terminal, through Rasa's REST channel.

Usage:
    make run        # in one terminal
    make chat       # in another; an empty line or Ctrl-D ends

Buttons are numbered: type the number to press one (a link button shows its address instead).
"""

from __future__ import annotations

import sys
import uuid

import httpx

URL = "http://127.0.0.1:5005/webhooks/rest/webhook"


def main() -> int:
    """Read lines, send each to the bot, print its answers and buttons."""
    sender = f"terminal:{uuid.uuid4().hex[:8]}"
    buttons: list[dict[str, str]] = []
    with httpx.Client(timeout=httpx.Timeout(30.0, connect=3.0)) as client:
        while True:
            try:
                text = input("나> ").strip()
            except EOFError:
                return 0
            if not text:
                return 0
            if text.isdigit() and 0 < int(text) <= len(buttons) and "payload" in buttons[int(text) - 1]:
                text = buttons[int(text) - 1]["payload"]
                print(f"나> {text}")
            try:
                answers = client.post(URL, json={"sender": sender, "message": text}).json()
            except httpx.HTTPError as exc:
                print(f"봇에 연결하지 못했어요 ({exc.__class__.__name__}). make run 중인지 확인해 주세요.")
                continue
            buttons = [b for answer in answers for b in answer.get("buttons") or []]
            number = 0
            for answer in answers:
                if answer.get("text"):
                    print(f"봇> {answer['text']}")
                for button in answer.get("buttons") or []:
                    number += 1
                    target = button.get("url") or button.get("phone")
                    print(f"    {number}. [{button.get('title')}]" + (f" {target}" if target else ""))


if __name__ == "__main__":
    sys.exit(main())
