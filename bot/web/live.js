(() => {
  const {$, el, when, row, api, start} = window.consolePage;
  let canManage = false, answering = null;

  const say = (text) => { $("notice").textContent = text; };
  const button = (text, onClick) => {
    const node = el("button", {type: "button", textContent: text});
    node.addEventListener("click", onClick);
    return node;
  };

  async function act(id, action, body, done) {
    try { await api(`live/questions/${id}/${action}`, body); say(done); } catch (e) { say(e.message); }
    await load();
  }

  function regroup(q) {
    const into = (prompt(`#${q.id} 질문을 몇 번 질문과 묶을까요?`) || "").trim();
    if (!into) return;
    if (!/^\d{1,10}$/.test(into)) { say("질문 번호를 숫자로 적어 주세요."); return; }
    act(q.id, "regroup", {into: Number(into)}, `#${q.id} 질문을 #${into} 질문과 묶었어요.`);
  }

  function question(q, group) {
    const status = q.status === "hidden" ? `숨김: ${q.hidden_reason || ""}` : q.status === "withdrawn" ? "시민이 취소" : "";
    const line = el("div", {className: `question ${q.status}`, id: `q${q.id}`}, `#${q.id} ${q.text}`,
      status ? el("span", {className: "status", textContent: status}) : null);
    if (!canManage || q.status === "withdrawn") return line;
    line.append(" ", q.status === "open"
      ? button("숨기기", () => {
        const reason = prompt(`#${q.id} 질문을 숨기는 이유를 적어 주세요 (시민에게는 보이지 않아요).`);
        if (reason !== null) act(q.id, "hide", {reason}, `#${q.id} 질문을 숨겼어요.`);
      })
      : button("다시 보이기", () => act(q.id, "show", {}, `#${q.id} 질문을 다시 보여요.`)));
    line.append(" ", button("묶기", () => regroup(q)));
    if (q.id !== group.group) line.append(" ", button("따로 두기", () => act(q.id, "regroup", {into: null}, `#${q.id} 질문을 따로 두었어요.`)));
    return line;
  }

  function answer(group) {
    const cell = el("div", {className: "answer"}, group.answer || "");
    if (group.answer_url) cell.append(el("br"), el("a", {href: group.answer_url, textContent: "답변 링크", target: "_blank", rel: "noopener"}));
    if (canManage) cell.append(el("br"), button(group.answer ? "답변 고치기" : "답변", () => {
      answering = group.group;
      $("answer-for").textContent = `#${group.group} 질문 묶음의 답변`;
      $("answer-text").value = group.answer || "";
      $("answer-url").value = group.answer_url || "";
      $("answering").hidden = false;
      $("answer-text").focus();
    }));
    return cell;
  }

  async function show() {
    const id = $("sessions").value;
    $("csv").hidden = $("public").hidden = !id;
    if (!id) { $("info").textContent = "아직 소통라이브가 없어요."; $("ranking").replaceChildren(); return; }
    $("csv").href = `/agent/api/live/${id}/questions.csv`;
    $("public").href = `/live/${id}`;
    const data = await api(`live/${id}/questions`);
    const s = data.session;
    $("info").replaceChildren(`질문 ${when(s.opens_at)} ~ ${when(s.closes_at)} · 방송 ${when(s.airs_at)} · `,
      el("a", {href: s.stream_url, textContent: "방송 주소", target: "_blank", rel: "noopener"}));
    let rank = 0;  // groups with no open question (all hidden or withdrawn) come last, unranked
    $("ranking").replaceChildren(row(["순위", "공감한 사람", "공감", "분야", "읍·면·동", "질문", "답변"], "th"),
      ...data.groups.map((g) => row([g.questions[0].status === "open" ? ++rank : "-", g.supporters, g.votes,
        g.topic_title, g.district || "", el("div", {}, ...g.questions.map((q) => question(q, g))), answer(g)])));
  }

  async function load(choose) {
    const data = await api("live");
    canManage = data.can_manage;
    $("create").hidden = !canManage;
    const kept = choose === undefined ? $("sessions").value : String(choose);
    const names = data.sessions.map((s) => `${s.id}. ${s.title}`);
    if (names.join("\n") !== $("sessions").dataset.names) {
      $("sessions").replaceChildren(...data.sessions.map((s, i) => el("option", {value: String(s.id), textContent: names[i]})));
      $("sessions").dataset.names = names.join("\n");
    }
    if (data.sessions.some((s) => String(s.id) === kept)) $("sessions").value = kept;
    await show();
  }

  $("sessions").addEventListener("change", () => show().catch((e) => say(e.message)));
  $("session").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const made = await api("live/sessions", {title: $("title").value.trim(), opens_at: $("opens").value,
        closes_at: $("closes").value, airs_at: $("airs").value, stream_url: $("stream").value.trim()});
      say(`소통라이브 ${made.id}번을 만들었어요.`);
      $("session").reset();
      await load(made.id);
    } catch (e) { say(e.message); }
  });
  $("answer").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`live/questions/${answering}/answer`, {text: $("answer-text").value.trim(), url: $("answer-url").value.trim()});
      say(`#${answering} 질문 묶음의 답변을 저장했어요.`);
      $("answering").hidden = true;
    } catch (e) { say(e.message); }
    await load();
  });
  $("answer-cancel").addEventListener("click", () => { $("answering").hidden = true; });

  (async () => {
    if (!(await start())) return;
    await load().catch((e) => say(e.message));
    setInterval(() => load().catch((e) => say(e.message)), 5000);  // new questions and 공감 as they come
  })();
})();
