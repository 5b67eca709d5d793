"""Made-up tickets for a demonstration or a benchmark: spread over the city's 읍·면·동, categories and the
last months, on a channel of their own ("demo") so that `python -m bot.tickets demo --delete` removes them.

The descriptions are short phrases written for this purpose, one set per category; no citizen wrote them.
"""

from __future__ import annotations

import datetime as dt
import random

from bot.nlu.taxonomy import CATEGORIES
from bot.profile import CityProfile
from bot.store.models import STATUSES, utcnow
from bot.store.tickets import due_date

__all__ = ["demo_rows"]

PHRASES = {
    "illegal_parking": ["소화전 앞 주차 차량", "횡단보도 위 주차", "어린이보호구역 불법 주차"],
    "road_damage": ["도로 포트홀", "보도블록 들뜸", "맨홀 뚜껑 흔들림"],
    "streetlight": ["가로등 꺼짐", "보행등 고장", "가로등 깜빡임"],
    "garbage": ["쓰레기 무단투기", "음식물 쓰레기 미수거", "대형 폐기물 방치"],
    "noise": ["야간 공사 소음", "확성기 소음", "공장 소음"],
    "water_leak": ["상수도 누수", "하수구 막힘", "빗물받이 막힘"],
    "animal": ["유기견 배회", "비둘기 배설물", "벌집 발견"],
    "illegal_ad": ["전봇대 불법 현수막", "벽보 부착", "입간판 보도 점용"],
    "facility_damage": ["공원 벤치 파손", "놀이터 시설 파손", "버스정류장 유리 파손"],
    "pollution": ["하천 악취", "공사장 비산먼지", "폐수 유출 의심"],
    "other": ["공공 와이파이 불통", "안내판 오류", "기타 불편"],
}
SPOTS = ["사거리", "주민센터 앞", "공원 옆", "아파트 정문", "초등학교 앞", "버스정류장"]
# How often each category comes (a made-up but plausible mix: parking and waste most).
WEIGHTS = {
    "illegal_parking": 22, "road_damage": 12, "streetlight": 10, "garbage": 18, "noise": 8, "water_leak": 7,
    "animal": 5, "illegal_ad": 6, "facility_damage": 6, "pollution": 4, "other": 2,
}  # fmt: skip


def demo_rows(profile: CityProfile, count: int, *, days: int = 180, seed: int = 0) -> list[dict[str, object]]:
    """Return COUNT made-up tickets filed over the last DAYS days, as rows of the tickets table."""
    rng = random.Random(seed)
    districts = [name for names in profile.districts.values() for name in names]
    # Some places report far more than others (a busy 동 next to a quiet 면).
    district_weights = [rng.paretovariate(1.2) for _ in districts]
    categories = list(CATEGORIES["complaint"])
    now = utcnow()
    rows: list[dict[str, object]] = []
    for i in range(count):
        category = rng.choices(categories, weights=[WEIGHTS[c] for c in categories])[0]
        district = rng.choices(districts, weights=district_weights)[0]
        created = now - dt.timedelta(seconds=rng.uniform(0, days * 86400))
        age = (now - created).days
        # Older tickets are mostly done; the last weeks' are mostly open.
        done = rng.random() < min(0.95, age / 21)
        status = rng.choice(["resolved"] * 9 + ["rejected"]) if done else rng.choice(STATUSES[:3])
        updated = created + dt.timedelta(days=rng.uniform(0, max(1, min(age, 14)))) if done else created
        spot = rng.choice(SPOTS)
        rows.append(
            {
                "category": category, "department": profile.department("complaint", category).name,
                "district": district, "location_text": f"{district} {spot}",
                "description": f"{rng.choice(PHRASES[category])} (시연용 {i + 1})",
                "sender": f"demo-{i % 5000:04d}",
                "status": status, "created_at": created, "updated_at": min(updated, now),
                "due_at": due_date(created, profile.deadline_days(category), profile.timezone),
            }
        )  # fmt: skip
    return rows
