"""python -m bot.news: reading a saved feed, publishing card news, and what each prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.news.__main__ import main

FEEDS = Path(__file__).resolve().parents[2] / "data" / "feeds"


@pytest.fixture
def database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def test_a_saved_feed_is_read_once_and_a_broken_one_is_refused(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    blog = str(FEEDS / "cheonan_blog.xml")
    assert main(["fetch", "--source", "blog", "--file", blog]) == 0
    assert main(["fetch", "--source", "blog", "--file", blog]) == 0
    assert main(["fetch", "--source", "blog", "--file", str(FEEDS / "odd_invalid.xml")]) == 1
    assert main(["fetch", "--file", blog]) == 2  # which feed is it?
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["blog: 24 new, 0 updated", "blog: 0 new, 0 updated"]
    assert "nothing was stored" in out[2]


def test_card_news_is_published_checked_and_listed_as_json(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    card = "https://blog.cheonan.example/img/1.jpg|겨울빛 정원\\n5시 반부터 켜져요.|https://blog.cheonan.example/posts/1"
    assert main(["cards", "add", "--topic", "weekend_guide", "--title", "주말 안내", "--card", card]) == 0
    assert main(["cards", "add", "--topic", "lottery", "--title", "x", "--card", card]) == 2
    assert main(["cards", "add", "--topic", "weekend_guide", "--title", "x", "--card", "http://a|b"]) == 2
    capsys.readouterr()
    assert main(["cards", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)  # JSON only: nothing printed after it
    assert listed["title"] == "주말 안내"
    assert listed["cards"] == [
        {"image": "https://blog.cheonan.example/img/1.jpg", "caption": "겨울빛 정원\n5시 반부터 켜져요.",
         "link": "https://blog.cheonan.example/posts/1"}
    ]  # fmt: skip
    assert main(["send", "weekend_guide"]) == 0
    assert main(["send", "weekend_guide"]) == 1  # sent once
