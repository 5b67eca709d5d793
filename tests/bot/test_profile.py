"""The city profile: complete for every category, consistent with the NLU's place names, checked on load."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from bot.nlu.taxonomy import CATEGORIES
from bot.profile import PROFILES_DIR, ProfileError, load_profile
from bot.settings import PROJECT_ROOT

KST = dt.timezone(dt.timedelta(hours=9))


def test_every_category_has_a_department_and_every_answer_two_to_four_links() -> None:
    profile = load_profile("cheonan")
    for intent, categories in CATEGORIES.items():
        for category in categories:
            assert profile.department(intent, category).phone
            if intent != "complaint":
                assert 2 <= len(profile.answer_buttons(intent, category)) <= 4


def test_a_link_whose_address_was_not_verified_points_to_the_city_home_page() -> None:
    profile = load_profile("cheonan")
    home = profile.links["home"]
    assert home.verified
    for key, link in profile.links.items():
        if not link.verified:
            assert link.url == home.url, key


def test_the_profile_and_the_nlu_lookup_know_the_same_places() -> None:
    profile = load_profile("cheonan")
    lookup = yaml.safe_load((PROJECT_ROOT / "data/nlu/lookups/location.yml").read_text(encoding="utf-8"))
    names = set(re.findall(r"^- (\S+)$", lookup["nlu"][0]["examples"], re.MULTILINE))
    assert names == set(profile.place_names)


@pytest.mark.parametrize(
    ("text", "district"),
    [
        ("서북구 쌍용동 사거리", "쌍용동"),
        ("쌍용1동 주민센터 앞", "쌍용1동"),
        ("동남구 어딘가", "동남구"),
        ("천안역 앞", None),
    ],
)
def test_district_of_prefers_the_dong_to_the_gu(text: str, district: str | None) -> None:
    assert load_profile("cheonan").district_of(text) == district


def test_business_hours_are_weekdays_nine_to_six_in_seoul() -> None:
    profile = load_profile("cheonan")
    hours = profile.business_hours
    assert hours.is_open(dt.datetime(2026, 11, 23, 9, 0, tzinfo=KST), profile.timezone)  # Monday
    assert not hours.is_open(dt.datetime(2026, 11, 23, 18, 0, tzinfo=KST), profile.timezone)
    assert not hours.is_open(dt.datetime(2026, 11, 28, 11, 0, tzinfo=KST), profile.timezone)  # Saturday
    # 01:00 UTC is 10:00 in Seoul.
    assert hours.is_open(dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.timezone.utc), profile.timezone)


def test_times_read_in_the_city_time_zone() -> None:
    moment = dt.datetime(2026, 11, 25, 5, 2, tzinfo=dt.timezone.utc)
    assert load_profile("cheonan").local_time(moment) == "11월 25일 14:02"


def test_an_incomplete_profile_is_refused_with_what_is_missing(tmp_path: Path) -> None:
    raw = yaml.safe_load((PROFILES_DIR / "cheonan.yml").read_text(encoding="utf-8"))
    del raw["routing"]["complaint"]["noise"]
    raw["answers"]["info"]["contact"] = ["home"]
    raw["quick_links"]["blog"]["url"] = "http://example.org"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProfileError) as error:
        load_profile(str(path))
    message = str(error.value)
    assert "routing.complaint.noise" in message and "answers.info.contact: 1 links" in message
    assert "quick_links.blog: url must start with https://" in message


def test_a_link_whose_address_was_not_checked_is_never_a_button() -> None:
    """A button titled "시 블로그" that opened the home page instead misled citizens."""
    profile = load_profile("cheonan")
    assert not profile.links["blog"].verified
    assert profile.link_buttons(["home", "blog", "facebook", "youtube"]) == [profile.links["home"].button()]
    for intent, categories in profile.answer_links.items():
        for category in categories:
            assert all(b["title"] != "시 블로그" for b in profile.answer_buttons(intent, category))
