"""Crisis messages: danger to life or a person in crisis. They get the emergency numbers and an urgent handoff.

This runs in the gateway before Rasa, so that it works whatever the model thinks of the message and even
when Rasa is down. It is a list of patterns, written to favour recall: a false alarm costs an agent a
minute; a miss can cost a life. `python -m bot.handoff.crisis FILE.jsonl` measures recall and false alarms on
a labelled set (tests/data/crisis.jsonl; the figures are in docs/benchmarks/crisis.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

__all__ = ["is_crisis", "kind_of"]

# Spaces are removed before matching (citizens often leave them out or put them anywhere), so the
# patterns are written without spaces.
_KINDS: dict[str, tuple[str, ...]] = {
    "suicide": (
        r"자살", r"죽고싶", r"죽고싶어", r"죽을래", r"죽어버리", r"죽으려", r"죽을거", r"죽을까", r"죽겠다고",
        r"살기싫", r"살고싶지않", r"살이유가없", r"사라지고싶", r"없어지고싶", r"목숨을?끊", r"목을?매",
        r"뛰어내리", r"투신", r"극단적(인)?선택", r"생을마감", r"유서", r"세상을?떠나고싶", r"끝내고싶[어다]",
        r"다끝내", r"번개탄", r"수면제.{0,6}(먹|모아|삼키)", r"약.{0,4}(한꺼번에|다)먹", r"옥상.{0,8}(올라|서있|뛰)",
        r"한강.{0,6}(가|갈|뛰)", r"더는못버티", r"더이상못버티", r"못버티겠", r"삶을?포기", r"인생포기",
    ),
    "self_harm": (
        r"자해", r"손목.{0,4}(긋|그었|그을|그어|베|벴|상처)", r"칼로.{0,6}(긋|그|베|찌르)", r"커터칼",
        r"피가.{0,6}(안멈|멈추지|계속)", r"스스로.{0,4}(다치|상처)", r"몸에.{0,4}상처를?(내|냈)",
        r"(나|저|내)를?때리고싶",
    ),
    "abuse": (
        r"(?<!동물)(?<!개)(?<!고양이)학대", r"가정폭력", r"성폭력", r"성폭행", r"성추행", r"아동폭력",
        r"(아빠|엄마|아버지|어머니|남편|아내|부인|오빠|형|새아빠|새엄마|삼촌|할아버지|선생님|며느리|아들|딸|보호자|시어머니)"
        r"(가|이|께서|한테|에게)?.{0,10}(때려|때린|때렸|맞아|맞았|맞고|폭행|발로차|던져|던졌|목을조|가둬|가뒀|굶겨|굶기)",
        r"(애|아이|아기|아동|어린이|애기|노인|할머니|할아버지|장애인).{0,12}(맞는|맞고|때리|때려|우는소리|방치|굶)",
        r"매일맞", r"맨날맞", r"또맞", r"맞고살", r"때려서.{0,6}(멍|피|다쳤)", r"멍투성이", r"멍이.{0,4}(들|있)",
    ),
    "violence": (
        r"폭행", r"폭력", r"칼(을|로|들고|들었|을들)", r"흉기", r"죽여버리", r"죽이겠", r"죽인다", r"죽일거",
        r"찔렀", r"찌르", r"스토킹", r"스토커", r"따라와", r"쫓아와", r"협박", r"감금", r"갇혀", r"납치",
        r"위협", r"살려(주세요|줘|주십시오)", r"도와(주세요|줘).{0,4}(빨리|제발|급해)", r"문을.{0,6}(부수|두드리|발로)",
        r"(쫓아|따라)오고있", r"무서워요.{0,10}(집앞|문앞|밖에)", r"(집앞|문앞).{0,12}(서있|기다리고|지키고)",
    ),
    "hunger": (
        r"며칠(째|동안|간|을)?.{0,6}(굶|못먹|안먹|밥을?못)", r"굶고있", r"굶었", r"굶어", r"굶주",
        r"(먹을|먹을것|먹을게|쌀|먹을거).{0,4}(없|떨어)", r"(라면|밥).{0,6}(살돈|사먹을돈)이?없",
        r"(전기|가스|수도|물|난방).{0,6}(끊겼|끊겨|끊어|끊긴|안나와|안들어와).{0,16}(추워|굶|못먹|아이|애|아기|노인|할머니|할아버지|며칠)",
        r"(추워|굶|아이|애들|아기|할머니|할아버지|며칠).{0,16}(전기|가스|수도|물|난방).{0,6}(끊겼|끊겨|끊긴|안나와|안들어와)",
        r"돈이?한푼도없", r"쫓겨나.{0,8}(갈곳|잘곳)", r"갈곳이없", r"잘곳이없", r"노숙",
    ),
    "emergency": (
        r"쓰러(졌|져|진|지)", r"의식이?없", r"숨을?(안|못)쉬", r"숨이?안", r"숨을?안쉬", r"호흡이?없",
        r"불이?(났|붙|나고)", r"불났", r"화재(가|발생|났)", r"연기가.{0,6}(나|자욱|가득)", r"가스냄새.{0,8}(심|가득|나요|나는)",
        r"피를.{0,4}(많이|흘리)", r"피가.{0,4}(많이|철철)", r"움직이지(않|못|를못)", r"대답이?없",
        r"(연락|인기척)이?.{0,4}(안|없|두절).{0,20}(며칠|할머니|할아버지|어르신|노인|혼자)",
        r"(며칠|할머니|할아버지|어르신|노인|혼자).{0,20}(연락|인기척)이?.{0,4}(안되|안돼|없|두절)",
        r"(며칠째|며칠동안).{0,10}(안보|안나오|문을안|소식이없)", r"물에빠", r"갇혔", r"깔렸", r"심정지",
        r"119", r"구급차",
    ),
}
# Exaggerations and information questions that reuse the same words.
_NOT_CRISIS = (
    r"(예방|교육|센터|상담소|기관|번호|전화번호|연락처|위치|어디|주소|캠페인|신고방법|통계).{0,6}(알려|있|문의|궁금|안내|뭐|어디|인가|이에요|예요)",
    r"(이|가|는)?어디(예요|에요|인가요|있)",
)
_COMPILED = {kind: re.compile("|".join(patterns)) for kind, patterns in _KINDS.items()}
_HYPERBOLE = re.compile(r"(죽겠|미치겠|환장|돌겠|죽을맛|배고파죽|더워죽|추워죽|웃겨죽|졸려죽)")
_INFO = re.compile("|".join(_NOT_CRISIS))
_WEAK = {"violence", "emergency"}  # words that an information question often carries


def kind_of(text: str) -> str | None:
    """Return the kind of crisis TEXT signals (suicide, self_harm, abuse, violence, hunger, emergency), or None."""
    squashed = re.sub(r"\s+", "", text or "")
    for kind, pattern in _COMPILED.items():
        match = pattern.search(squashed)
        if match is None:
            continue
        # "자살예방센터 번호 알려주세요" and "폭력 예방 교육" ask for information; a cry for help does not.
        if _INFO.search(squashed) and not re.search(r"(죽고싶|살기싫|살려|때려|맞고|굶)", squashed):
            return None
        if kind in _WEAK and _HYPERBOLE.search(squashed) and not re.search(r"(칼|흉기|피|쓰러|불이)", squashed):
            continue
        return kind
    return None


def is_crisis(text: str) -> bool:
    """Return whether TEXT signals danger to life or a person in crisis."""
    return kind_of(text) is not None


def evaluate(path: Path) -> dict[str, object]:
    """Return recall per kind, overall recall and the false-alarm rate on a labelled JSON Lines file."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    positives = [r for r in rows if r["crisis"]]
    negatives = [r for r in rows if not r["crisis"]]
    missed = [r for r in positives if not is_crisis(r["text"])]
    alarms = [r for r in negatives if is_crisis(r["text"])]
    kinds = sorted({r["kind"] for r in positives})
    return {
        "positives": len(positives),
        "negatives": len(negatives),
        "recall": 1 - len(missed) / max(1, len(positives)),
        "false_alarm_rate": len(alarms) / max(1, len(negatives)),
        "recall_by_kind": {
            k: 1 - sum(r["kind"] == k for r in missed) / max(1, sum(r["kind"] == k for r in positives))
            for k in kinds
        },
        "missed": [r["text"] for r in missed],
        "false_alarms": [r["text"] for r in alarms],
    }


def main(argv: list[str] | None = None) -> int:
    """Print recall and false alarms on a labelled file (JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bot.handoff.crisis", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="JSON Lines: {text, crisis, kind}")
    args = parser.parse_args(argv)
    print(json.dumps(evaluate(args.file), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
