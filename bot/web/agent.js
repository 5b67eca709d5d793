(() => {
  const $ = (id) => document.getElementById(id);
  const STATUS = {waiting: "대기", assigned: "상담 중", closed: "종료", abandoned: "취소"};
  const CHANNEL = {web: "웹 채팅", kakao: "카카오톡", telegram: "텔레그램"};
  const REASON = {fallback: "이해 못 함", low_confidence: "확신 낮음", handoff: "상담원 연결된 대화"};
  let me = null, selected = null, current = null, socket = null, retry = 1000, view = "chats";

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": me ? me.csrf : ""},
      body: JSON.stringify(body),
    };
    const response = await fetch("/agent/api/" + path, {credentials: "same-origin", ...options});
    const data = await response.json().catch(() => ({}));
    if (response.status === 401 && path !== "login") { showLogin(); throw new Error("로그인이 필요해요."); }
    if (!response.ok) throw new Error(data.error || ("오류 " + response.status));
    return data;
  }

  const waited = (s) => s < 60 ? s + "초" : s < 3600 ? Math.floor(s / 60) + "분" : Math.floor(s / 3600) + "시간 " + Math.floor(s % 3600 / 60) + "분";
  const label = (intent, category) => {
    if (intent === "nlu_fallback") return "이해 못 함";
    if (!me) return intent;
    const c = category && (me.categories[intent] || []).find((x) => x.name === category);
    if (c) return c.label;
    const i = me.intents.find((x) => x.name === intent);
    return i ? i.label : intent;
  };
  const reasonText = (r) => r.startsWith("crisis") ? "위기 신호" : ({requested: "상담원 요청", not_understood: "챗봇이 못 알아들음", false_alarm: "위기 아님(확인)"})[r] || r;
  const say = (text) => { $(view === "review" ? "review-notice" : "notice").textContent = text; };

  function showLogin() {
    me = null;
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
    $("who").textContent = ""; $("logout").hidden = true; $("live").textContent = "";
    if (!$("login")) location.reload();
  }

  async function start() {
    try { me = await api("me"); } catch (e) { return; }
    $("main").replaceChildren($("console").content.cloneNode(true));
    $("who").textContent = me.name + " 님"; $("logout").hidden = false;
    for (const t of me.templates) { const o = document.createElement("option"); o.value = t; o.textContent = t.slice(0, 24); $("templates").appendChild(o); }
    for (const c of me.categories.complaint) { const o = document.createElement("option"); o.value = c.name; o.textContent = c.label; $("t-category").appendChild(o); }
    $("templates").addEventListener("change", () => { if ($("templates").value) { $("reply").value = $("templates").value; $("reply").focus(); } $("templates").value = ""; });
    $("compose").addEventListener("submit", (e) => { e.preventDefault(); send(); });
    $("reply").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); } });
    $("claim").addEventListener("click", () => act("claim", {}, "상담을 가져왔어요."));
    $("close").addEventListener("click", () => { if (confirm("상담을 마치고 챗봇에게 돌려줄까요?")) act("close", {}, "상담을 마쳤어요."); });
    $("reveal").addEventListener("click", reveal);
    $("false-alarm").addEventListener("click", () => {
      if (confirm("위기 상황이 아니라고 표시할까요? 긴급 표시가 사라지고 챗봇이 시민과 하던 대화를 이어 가요. 이 메시지는 위기 감지의 다음 학습에 '위기 아님'으로 쓰여요.")) act("false_alarm", {}, "위기 아님으로 표시했어요. 챗봇이 이어서 응대해요.");
    });
    $("t-file").addEventListener("click", fileTicket);
    $("tab-chats").addEventListener("click", () => show("chats"));
    $("tab-review").addEventListener("click", () => { show("review"); loadReview(); });
    $("review-refresh").addEventListener("click", loadReview);
    connect();
    await loadQueue();
    loadReview();
  }

  const pending = {queue: false, chat: false, timer: null};
  function refresh() {
    const {queue, chat} = pending;
    pending.queue = false; pending.chat = false; pending.timer = null;
    if (queue) loadQueue();
    if (chat && selected) loadChat(selected);
  }

  function connect() {
    socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/agent/ws");
    socket.onopen = () => { retry = 1000; $("live").textContent = "● 실시간 연결됨"; loadQueue(); };
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      pending.queue = true;
      if (selected && (data.type === "queue" || data.handoff === selected)) pending.chat = true;
      // A burst of events (a flood of new chats) makes one refresh, not one each.
      if (!pending.timer) pending.timer = setTimeout(refresh, 300);
    };
    socket.onclose = (event) => {
      $("live").textContent = "○ 다시 연결 중…";
      if (event.code === 4401) { showLogin(); return; }
      setTimeout(connect, retry); retry = Math.min(retry * 2, 15000);
    };
  }

  async function loadQueue() {
    const data = await api("queue");
    const items = $("items");
    items.replaceChildren();
    for (const h of data.handoffs) {
      const div = document.createElement("div");
      div.className = "item" + (h.id === selected ? " selected" : "");
      div.dataset.id = h.id;
      const top = document.createElement("div"); top.className = "top";
      const add = (text, cls) => { const s = document.createElement("span"); s.className = "badge " + (cls || ""); s.textContent = text; top.appendChild(s); };
      if (h.priority === "urgent") add("긴급", "urgent");
      add(STATUS[h.status] || h.status, h.status);
      const name = document.createElement("strong"); name.textContent = "#" + h.id + " " + (CHANNEL[h.channel] || h.channel); top.appendChild(name);
      const meta = document.createElement("div"); meta.className = "meta";
      meta.textContent = reasonText(h.reason) + " · " + (h.status === "waiting" ? waited(h.waiting_seconds) + " 대기" : h.agent ? "담당 " + h.agent : "");
      div.append(top, meta);
      div.addEventListener("click", () => {
        if (selected !== h.id) say("");  // what was said about the previous chat is not about this one
        selected = h.id; show("chats"); loadQueue(); loadChat(h.id);
      });
      items.appendChild(div);
    }
  }

  function render(data) {
    current = data;
    const h = data.handoff;
    show(view);
    const guesses = (h.guesses || []).map((g) => label(g.intent, g.category) + " " + Math.round(g.confidence * 100) + "%").join(", ");
    $("info").textContent = "#" + h.id + " · " + (CHANNEL[h.channel] || h.channel) + " · " + reasonText(h.reason) +
      " · " + (STATUS[h.status] || h.status) + (h.agent ? " (" + h.agent + ")" : "") + (guesses ? " · 챗봇의 추측: " + guesses : "");
    const mine = h.status === "assigned" && h.agent === me.name;
    $("claim").disabled = h.status !== "waiting";
    $("close").disabled = !mine; $("send").disabled = !mine; $("t-file").disabled = !mine;
    $("false-alarm").hidden = !(h.reason.startsWith("crisis") && (h.status === "waiting" || mine));
    // Personal data: the agent holding the chat, or a supervisor or admin (the server checks it too).
    $("reveal").disabled = data.revealed || !(mine || me.role !== "agent");
    const log = $("log");
    log.replaceChildren();
    for (const m of data.messages) {
      const row = document.createElement("div"); row.className = "msg " + m.from;
      const who = document.createElement("div"); who.className = "who";
      who.textContent = ({citizen: "시민", bot: "챗봇", agent: "상담원"})[m.from] + " · " + new Date(m.at).toLocaleTimeString("ko-KR", {hour: "2-digit", minute: "2-digit"});
      const text = document.createElement("div"); text.className = "text";
      text.textContent = m.text + (m.buttons && m.buttons.length ? "\n[" + m.buttons.join("] [") + "]" : "");
      if (m.shared_place) text.textContent = (text.textContent + " 📍 위치를 보냈어요").trim();
      row.append(who, text);
      if (m.photo) row.appendChild(photo(m.photo));
      if (m.from === "citizen") row.appendChild(labeller(m));
      log.appendChild(row);
    }
    log.scrollTop = log.scrollHeight;
    const tickets = $("tickets"); tickets.replaceChildren();
    if (!data.tickets.length) tickets.textContent = "접수된 민원이 없어요.";
    for (const t of data.tickets) {
      const div = document.createElement("div"); div.className = "ticket";
      const status = (s) => me.ticket_statuses[s] || s;
      div.textContent = t.number + " · " + label("complaint", t.category) + " · " + status(t.status) + "\n" + t.description.slice(0, 80);
      div.title = (t.events || []).map((e) => e.at + " " + status(e.status) + " " + e.note).join("\n");
      if (t.photo_url) div.appendChild(photo(t.photo_url));
      tickets.appendChild(div);
    }
  }

  function show(which) {
    view = which;
    $("tab-chats").classList.toggle("active", view === "chats");
    $("tab-review").classList.toggle("active", view === "review");
    $("review").style.display = view === "review" ? "flex" : "none";
    $("detail").style.display = view === "chats" && current ? "flex" : "none";
    $("empty").style.display = view === "chats" && !current ? "" : "none";
  }

  async function loadReview() {
    let data;
    try { data = await api("review?limit=100"); } catch (e) { say(e.message); return; }
    const list = $("review-items");
    list.replaceChildren();
    for (const m of data.items) {
      const div = document.createElement("div"); div.className = "review-item";
      const top = document.createElement("div"); top.className = "top";
      const reason = document.createElement("span"); reason.className = "badge reason " + m.reason; reason.textContent = REASON[m.reason] || m.reason;
      const meta = document.createElement("span");
      meta.textContent = (CHANNEL[m.channel] || m.channel) + " · " + new Date(m.at).toLocaleString("ko-KR", {month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit"});
      top.append(reason, meta);
      const text = document.createElement("div"); text.className = "text"; text.textContent = m.text;
      div.append(top, text, labeller(m, () => { div.remove(); countReview(); }));
      list.appendChild(div);
    }
    countReview();
  }

  function countReview() {
    const n = $("review-items").querySelectorAll(".review-item").length;
    $("review-count").textContent = n; $("review-count").hidden = !n;
    if (!n) $("review-items").textContent = "지금은 검토할 메시지가 없어요. 수고하셨어요!";
  }

  // A citizen's photo, fetched through the gateway (a web upload, Telegram or Kakao): opens full size.
  function photo(ref) {
    const link = document.createElement("a");
    link.href = "/agent/api/photo?ref=" + encodeURIComponent(ref); link.target = "_blank"; link.rel = "noopener";
    const img = document.createElement("img");
    img.src = link.href; img.alt = "시민이 보낸 사진"; img.loading = "lazy"; img.className = "photo";
    img.onerror = () => { link.replaceChildren("사진을 불러오지 못했어요 (기간이 지났을 수 있어요)"); };
    link.appendChild(img);
    return link;
  }

  function labeller(m, saved) {
    const box = document.createElement("div"); box.className = "understood";
    const u = m.understood;
    const seen = document.createElement("span");
    seen.className = "seen";
    seen.textContent = u ? "챗봇 이해: " + label(u.intent, u.category) + " (" + Math.round(u.confidence * 100) + "%)" : "챗봇 이해: -";
    const intent = document.createElement("select"), category = document.createElement("select");
    intent.setAttribute("aria-label", "의도"); category.setAttribute("aria-label", "분류");
    intent.appendChild(new Option("의도 고르기", ""));
    for (const i of me.intents) intent.appendChild(new Option(i.label, i.name));
    const fill = () => {
      category.replaceChildren(new Option("분류", ""));
      for (const c of (me.categories[intent.value] || [])) category.appendChild(new Option(c.label, c.name));
      category.hidden = !(me.categories[intent.value]);
    };
    const chosen = m.label || u;
    if (chosen && me.intents.some((i) => i.name === chosen.intent)) {
      intent.value = chosen.intent; fill(); category.value = chosen.category || "";
    } else fill();
    intent.addEventListener("change", fill);
    const save = document.createElement("button"); save.type = "button"; save.textContent = m.label ? "다시 저장" : "라벨 저장";
    save.addEventListener("click", async () => {
      try { await api("messages/" + m.id + "/label", {intent: intent.value, category: category.value || null}); save.textContent = "저장됨"; say("라벨을 저장했어요. 다음 학습에 쓰여요."); if (saved) saved(); }
      catch (e) { say(e.message); }
    });
    box.append(seen, intent, category, save);
    return box;
  }

  async function loadChat(id) {
    try { render(await api("handoffs/" + id)); } catch (e) { say(e.message); }
  }

  async function act(action, body, done) {
    try { await api("handoffs/" + selected + "/" + action, body); say(done); await loadQueue(); await loadChat(selected); }
    catch (e) { say(e.message); }
  }

  async function send() {
    const text = $("reply").value.trim();
    if (!text || $("send").disabled) return;
    try {
      const r = await api("handoffs/" + selected + "/reply", {text});
      $("reply").value = "";
      say(r.delivered === "now" ? "보냈어요." : current.handoff.channel === "kakao"
        ? "카카오톡 시민에게는 다음 메시지를 보낼 때 함께 전달돼요." : "시민이 지금 대화창을 닫아 두었어요. 다시 열면 전달돼요.");
      await loadChat(selected);
    } catch (e) { say(e.message); }
  }

  async function reveal() {
    const reason = prompt("개인정보를 여는 이유를 적어 주세요. (기록돼요)");
    if (!reason) return;
    try { render(await api("handoffs/" + selected + "/reveal", {reason})); say("개인정보를 열었어요. 이 열람은 기록돼요."); }
    catch (e) { say(e.message); }
  }

  async function fileTicket() {
    const body = {category: $("t-category").value, location: $("t-location").value, description: $("t-description").value};
    try {
      const r = await api("handoffs/" + selected + "/ticket", body);
      $("t-location").value = ""; $("t-description").value = "";
      say("민원 " + r.number + "(으)로 접수했어요. 시민에게도 알렸어요.");
      await loadChat(selected);
    } catch (e) { say(e.message); }
  }

  $("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      await api("login", {name: $("name").value, password: $("password").value});
      await start();
    } catch (e) { $("login-error").textContent = e.message.includes("wrong") ? "이름이나 비밀번호가 맞지 않아요." : e.message.includes("too many") ? "로그인 실패가 많아요. 10분 뒤에 다시 해 주세요." : e.message; }
  });
  $("logout").addEventListener("click", async () => { try { await api("logout", {}); } finally { location.reload(); } });
  setInterval(() => { if (me) loadQueue().catch(() => {}); }, 30000);  // waiting times
  start();
})();
