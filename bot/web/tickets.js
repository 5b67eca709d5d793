(() => {
  const $ = (id) => document.getElementById(id);
  let me = null, page = 1, total = 0, perPage = 50, selected = null, csrf = "";

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify(body),
    };
    const response = await fetch("/agent/api/" + path, {credentials: "same-origin", ...options});
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) { loginNeeded(); throw new Error("로그인이 필요해요."); }
    if (!response.ok) throw new Error(data.error || ("오류 " + response.status));
    return data;
  }

  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  };
  const day = (iso) => iso ? new Date(iso).toLocaleDateString("ko-KR", {timeZone: "Asia/Seoul"}) : "";
  const when = (iso) => new Date(iso).toLocaleString("ko-KR", {timeZone: "Asia/Seoul", dateStyle: "short", timeStyle: "short"});
  const dueBadge = (t) => t.due === "overdue" ? el("span", {className: "badge overdue", textContent: "기한 지남"})
    : t.due === "soon" ? el("span", {className: "badge soon", textContent: "기한 임박"}) : null;

  function loginNeeded() {
    document.querySelector("main").replaceChildren(el("div", {id: "login-needed"},
      el("p", {textContent: "상담 콘솔에서 로그인한 뒤 다시 열어 주세요."}), el("a", {href: "/agent", textContent: "로그인하러 가기"})));
    $("filters").hidden = true;
  }

  function fill(select, options) {
    for (const [value, text] of options) select.append(el("option", {value, textContent: text}));
  }

  async function start() {
    try { me = await api("tickets/options"); } catch (e) { return; }
    csrf = (await api("me")).csrf;
    $("who").textContent = `${me.name} 님` + (me.department ? ` · ${me.department}` : "");
    fill($("f-status"), me.statuses.map((s) => [s.name, s.label]));
    fill($("f-category"), me.categories.map((c) => [c.name, c.label]));
    fill($("f-district"), me.districts.map((d) => [d, d]));
    if (me.role === "staff") $("f-department-label").style.display = "none";
    else fill($("f-department"), me.departments.map((d) => [d, d]));
    $("filters").addEventListener("submit", (event) => { event.preventDefault(); page = 1; load(); });
    $("prev").addEventListener("click", () => { if (page > 1) { page -= 1; load(); } });
    $("next").addEventListener("click", () => { if (page * perPage < total) { page += 1; load(); } });
    load();
  }

  async function load() {
    const query = new URLSearchParams({page: String(page)});
    for (const [key, id] of [["status", "f-status"], ["category", "f-category"], ["district", "f-district"],
      ["department", "f-department"], ["due", "f-due"], ["since", "f-since"], ["until", "f-until"], ["q", "f-q"]]) {
      if ($(id).value) query.set(key, $(id).value);
    }
    let data;
    try { data = await api("tickets?" + query); } catch (e) { $("summary").textContent = e.message; return; }
    total = data.total; perPage = data.per_page;
    $("summary").textContent = `${total.toLocaleString("ko-KR")}건`;
    $("page").textContent = total ? `${page} / ${Math.ceil(total / perPage)}` : "";
    $("prev").disabled = page <= 1; $("next").disabled = page * perPage >= total;
    $("rows").replaceChildren(...data.tickets.map((t) => {
      const row = el("tr", {}, el("td", {textContent: t.number}), el("td", {textContent: day(t.created_at)}),
        el("td", {textContent: t.category_label}), el("td", {textContent: t.district || ""}),
        el("td", {textContent: t.department}), el("td", {textContent: t.status_label}),
        el("td", {}, t.due_at ? day(t.due_at) + " " : "", dueBadge(t)), el("td", {className: "text", textContent: t.description}));
      row.dataset.number = t.number;
      if (t.number === selected) row.classList.add("selected");
      row.addEventListener("click", () => open(t.number));
      return row;
    }));
  }

  async function open(number) {
    selected = number;
    for (const row of $("rows").children) row.classList.toggle("selected", row.dataset.number === number);
    let t;
    try { t = await api("tickets/" + encodeURIComponent(number)); } catch (e) { alert(e.message); return; }
    const pane = $("detail");
    pane.style.display = "block";
    const notice = el("div", {className: "notice"});
    const facts = el("dl", {},
      el("dt", {textContent: "분류"}), el("dd", {textContent: t.category_label}),
      el("dt", {textContent: "상태"}), el("dd", {textContent: t.status_label}),
      el("dt", {textContent: "부서"}), el("dd", {textContent: t.department}),
      el("dt", {textContent: "위치"}), el("dd", {textContent: [t.district, t.location].filter(Boolean).join(" · ") || "없음"}),
      el("dt", {textContent: "기한"}), el("dd", {}, t.due_at ? day(t.due_at) + " " : "없음", dueBadge(t)),
      el("dt", {textContent: "내용"}), el("dd", {textContent: t.description}),
      ...(t.merged_into ? [el("dt", {textContent: "합쳐진 곳"}), el("dd", {textContent: t.merged_into})] : []));
    const photo = t.photo_url ? el("img", {className: "photo", alt: "시민이 보낸 사진", src: "/agent/api/photo?ref=" + encodeURIComponent(t.photo_url)}) : null;
    const what = (e) => e.kind === "reassign" ? `부서 이관: ${e.note}` : e.kind === "merge" ? `${e.note}에 합침`
      : `${(me.statuses.find((s) => s.name === e.status) || {}).label || e.status} — ${e.note}`;
    const steps = t.events.map((e) => el("div", {className: "step"},
      el("div", {className: "at", textContent: `${when(e.at)} · ${e.actor}`}), el("div", {textContent: what(e)})));
    const chat = t.conversation.length ? t.conversation.map((m) => el("div", {className: "chat " + m.direction, textContent: m.text}))
      : [el("div", {textContent: "대화 기록이 없어요."})];
    const forms = [];
    if (t.can_move) {
      const status = el("select", {id: "d-status"});
      fill(status, me.statuses.map((s) => [s.name, s.label]));
      status.value = t.status;
      const note = el("textarea", {id: "d-note", rows: 3, placeholder: "시민에게 보낼 안내 (예: 현장 확인 후 보수했어요)"});
      const change = el("form", {className: "change"}, status, note, el("button", {className: "action", type: "submit", textContent: "상태 바꾸기"}));
      change.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await api(`tickets/${encodeURIComponent(t.number)}/status`, {status: status.value, note: note.value});
          await load(); await open(t.number); $("detail").querySelector(".notice").textContent = "바꿨어요. 시민에게 알렸어요.";
        } catch (e) { notice.textContent = e.message; }
      });
      const department = el("select", {id: "d-department"});
      fill(department, me.departments.filter((d) => d !== t.department).map((d) => [d, d]));
      const move = el("form", {className: "change"}, department, el("button", {className: "action secondary", type: "submit", textContent: "부서 이관"}));
      move.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await api(`tickets/${encodeURIComponent(t.number)}/reassign`, {department: department.value});
          await load(); await open(t.number); $("detail").querySelector(".notice").textContent = "이관했어요. 시민에게 알렸어요.";
        } catch (e) { notice.textContent = e.message; }
      });
      forms.push(el("h3", {textContent: "처리"}), change, el("h3", {textContent: "다른 부서로"}), move);
      if (t.similar.length && !t.merged_into) {
        forms.push(el("h3", {textContent: "비슷한 민원 (같은 문제일 수 있어요)"}), ...t.similar.map((s) => {
          const join = el("button", {className: "action secondary", type: "button", textContent: `${s.number}에 합치기`});
          join.addEventListener("click", async () => {
            try {
              await api(`tickets/${encodeURIComponent(t.number)}/merge`, {into: s.number});
              await load(); await open(t.number); $("detail").querySelector(".notice").textContent = "합쳤어요. 시민에게 알렸어요.";
            } catch (e) { notice.textContent = e.message; }
          });
          return el("div", {className: "similar"}, el("div", {textContent: `${s.number} · ${s.status_label} · ${s.location || ""}`}),
            el("div", {className: "at", textContent: s.description}), join);
        }));
      }
    }
    pane.replaceChildren(...[el("h2", {textContent: `민원 ${t.number}`}), notice, facts, photo].filter(Boolean),
      ...forms, el("h3", {textContent: "처리 기록"}), ...steps, el("h3", {textContent: "접수된 대화 (개인정보 가림)"}), ...chat);
  }

  start();
})();
