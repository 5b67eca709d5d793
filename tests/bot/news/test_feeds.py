"""Reading the city's feeds: the shipped feeds, and odd ones (no dates, duplicates, heavy HTML, broken XML,
an error page, a large feed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.news.feeds import FeedError, parse_feed, plain_text
from bot.news.fetch import store_feed
from bot.store.models import Post

FEEDS = Path(__file__).resolve().parents[2] / "data" / "feeds"
BLOG_CATEGORIES = {"더큰천안", "즐기는천안", "흥겨운천안", "따뜻한천안"}


def feed(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def stored(sessions: sessionmaker[Session]) -> list[Post]:
    with sessions() as session:
        return list(session.scalars(select(Post).order_by(Post.published_at.desc())))


def test_the_blog_gives_every_post_with_its_category_tags_picture_and_plain_summary() -> None:
    posts = parse_feed(feed("cheonan_blog.xml"))
    assert len(posts) == 24
    assert {p.category for p in posts} == BLOG_CATEGORIES
    assert all(p.image and p.image.startswith("https://blog.cheonan.example/img/") for p in posts)
    assert all("<" not in p.summary and "&nbsp;" not in p.summary for p in posts)
    assert all(p.published_at and p.published_at.tzinfo for p in posts)
    guide = next(p for p in posts if p.title == "천안주말사용설명서 12월 첫째 주")
    # Thursday 16:00 in Seoul is 07:00 in UTC.
    assert guide.published_at == dt.datetime(2026, 12, 3, 7, 0, tzinfo=dt.timezone.utc)
    assert guide.category == "즐기는천안" and "주말" in guide.tags
    assert "주말" in guide.terms.split() and "사용" in guide.terms.split()


def test_youtube_videos_keep_their_thumbnail_and_press_releases_have_none() -> None:
    videos = parse_feed(feed("cheonan_youtube.xml"))
    assert len(videos) == 8
    assert all(v.link.startswith("https://www.youtube.com/watch?v=") for v in videos)
    assert all(v.image and v.image.startswith("https://i.ytimg.com/vi/") for v in videos)
    press = parse_feed(feed("cheonan_press.xml"))
    assert len(press) == 12 and {p.image for p in press} == {None}


def test_html_in_a_summary_is_read_as_a_reader_sees_it_and_a_strangers_pixel_is_no_picture() -> None:
    first, second = parse_feed(feed("odd_html.xml"))
    assert first.title == "빵 & 커피 페스타 '달콤한 천안' 참가 업체 모집"
    for post in (first, second):
        assert (
            "alert" not in post.summary
            and "notice-box" not in post.summary
            and "font-family" not in post.summary
        )
        assert "<" not in post.summary.replace("<겨레의 편지>", "")
        assert post.image is None  # the only image was another site's counter pixel
    assert "선정된 업체에는 부스와 홍보물을 무료로 지원합니다" in first.summary
    # HTML escaped twice is HTML all the same.
    assert second.title == "독립기념관 겨울 특별전 <겨레의 편지> 개막 '무료 관람'"
    assert second.summary.startswith("독립기념관에서 독립운동가들이")


def test_plain_text_drops_scripts_and_styles_and_keeps_lines() -> None:
    assert (
        plain_text("<style>p{}</style><p>첫 줄</p><script>x()</script><p>둘째&nbsp;줄</p>")
        == "첫 줄\n둘째 줄"
    )


@pytest.mark.parametrize("name", ["odd_invalid.xml", "odd_not_a_feed.xml"])
def test_a_broken_feed_is_refused_whole_and_nothing_is_stored(
    name: str, sessions: sessionmaker[Session]
) -> None:
    with pytest.raises(FeedError, match="nothing was stored"), sessions.begin() as session:
        store_feed(session, "blog", feed(name))
    assert stored(sessions) == []


def test_a_post_without_a_date_is_dated_when_first_seen_and_keeps_that_date(
    sessions: sessionmaker[Session],
) -> None:
    before = dt.datetime.now(dt.timezone.utc)
    with sessions.begin() as session:
        assert store_feed(session, "notices", feed("odd_missing_dates.xml")).added == 3
    posts = {p.title: p for p in stored(sessions)}
    undated = [p for p in posts.values() if p.published_at.replace(tzinfo=dt.timezone.utc) >= before]
    assert len(undated) == 2  # no pubDate, and "지난주 목요일"
    with sessions.begin() as session:
        again = store_feed(session, "notices", feed("odd_missing_dates.xml"))
    assert (again.added, again.updated) == (0, 0)
    assert {p.title: p.published_at for p in stored(sessions)} == {
        t: p.published_at for t, p in posts.items()
    }


def test_a_post_is_stored_once_and_updated_when_the_feed_corrects_it(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = store_feed(session, "notices", feed("odd_duplicates.xml"))
    # Two entries share a guid (the later one is the correction); one has no guid (its link is one).
    assert (first.added, first.updated) == (3, 0)
    titles = [p.title for p in stored(sessions)]
    assert "[정정] 쌍용도서관 임시 휴관 안내 (12월 8일)" in titles
    assert "쌍용도서관 임시 휴관 안내 (12월 7일)" not in titles
    with sessions.begin() as session:
        assert store_feed(session, "notices", feed("odd_duplicates.xml")).added == 0
    edited = feed("odd_duplicates.xml").replace("하루 문을 닫습니다".encode(), "하루 쉽니다".encode())
    with sessions.begin() as session:
        done = store_feed(session, "notices", edited)
    assert (done.added, done.updated) == (0, 1)
    assert len(stored(sessions)) == 3
    # The same guid in another feed is another post.
    with sessions.begin() as session:
        assert store_feed(session, "press", feed("odd_duplicates.xml")).added == 3


def test_a_large_feed_is_read_and_stored(sessions: sessionmaker[Session]) -> None:
    item = (
        "<item><title>천안시 소식 {n}번째 글</title><link>https://blog.cheonan.example/posts/{n}</link>"
        "<guid>big-{n}</guid><pubDate>Tue, 01 Dec 2026 10:00:00 +0900</pubDate><category>더큰천안</category>"
        "<description><![CDATA[<p>{body}</p>]]></description></item>"
    )
    body = "시민 여러분께 알려 드리는 긴 안내문이에요. " * 40
    items = "".join(item.format(n=n, body=body) for n in range(3000))
    head = '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>큰 피드</title>'
    document = f"{head}{items}</channel></rss>".encode()
    assert len(document) > 5_000_000
    with sessions.begin() as session:
        assert store_feed(session, "blog", document).added == 3000
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 3000
