(() => {
  const {$, el, when, row, api, start} = window.consolePage;

  function addCard() {
    const n = $("cards").children.length + 1;
    if (n > 10) return;
    $("cards").append(el("fieldset", {className: "card"}, el("legend", {textContent: `카드 ${n}`}),
      el("label", {}, "그림 주소 (https://)", el("input", {className: "image", type: "url", required: true})),
      el("label", {}, "설명 (첫 줄이 카드 제목)", el("textarea", {className: "caption", rows: 2, required: true})),
      el("label", {}, "링크 (없어도 돼요)", el("input", {className: "link", type: "url"}))));
  }

  async function load() {
    const data = await api("news");
    const topics = Object.fromEntries(data.topics.map((t) => [t.key, t.title]));
    // A per-읍·면·동 topic's broadcasts are "key:읍·면·동"; it takes no card sets (each 읍·면·동 gets its posts).
    const label = (key) => { const [base, dong] = key.split(":"); return dong ? `${topics[base] || base}(${dong})` : topics[key] || key; };
    if (!$("topic").children.length) for (const t of data.topics.filter((t) => !t.per_district)) $("topic").append(el("option", {value: t.key, textContent: t.title}));
    $("publish").hidden = !data.can_publish;
    $("topics").replaceChildren(row(["주제", "보내는 때", ""], "th"), ...data.topics.map((t) => {
      const send = el("button", {type: "button", textContent: "지금 보내기", disabled: !data.can_publish});
      send.addEventListener("click", async () => {
        if (!confirm(t.per_district ? `'${t.title}' 구독자에게 읍·면·동마다 새 소식을 모아 지금 보낼까요?` : `'${t.title}' 구독자에게 새 카드뉴스를 지금 보낼까요?`)) return;
        try { await api("news/send/" + t.key, {}); $("notice").textContent = "보내기 시작했어요."; } catch (e) { $("notice").textContent = e.message; }
        load();
      });
      return row([t.title, t.says, send]);
    }));
    $("sets").replaceChildren(row(["번호", "주제", "제목", "카드", "올린 때"], "th"),
      ...data.sets.map((s) => row([s.id, label(s.topic), s.title, s.cards.length, when(s.created_at)])));
    $("broadcasts").replaceChildren(row(["번호", "주제", "시작", "받는 사람", "보냄", "다음 메시지로", "차단", "실패", "남음", "걸린 시간"], "th"),
      ...data.broadcasts.map((b) => row([b.id, label(b.topic), when(b.started_at), b.recipients, b.sent, b.queued,
        b.blocked, b.failed, b.pending, b.seconds === null ? "보내는 중" : `${b.seconds}초`])));
  }

  $("more").addEventListener("click", addCard);
  $("set").addEventListener("submit", async (event) => {
    event.preventDefault();
    const cards = [...$("cards").children].map((f) => ({
      image: f.querySelector(".image").value.trim(), caption: f.querySelector(".caption").value.trim(),
      link: f.querySelector(".link").value.trim(),
    }));
    try {
      const made = await api("news/cards", {topic: $("topic").value, title: $("title").value.trim(), cards});
      $("notice").textContent = `카드뉴스 ${made.id}번을 올렸어요.`;
      $("set").reset(); $("cards").replaceChildren(); addCard();
    } catch (e) { $("notice").textContent = e.message; }
    load();
  });

  (async () => {
    if (!(await start())) return;
    $("who").textContent = "";
    addCard();
    await load();
    setInterval(load, 5000);  // a broadcast's progress
  })();
})();
