(() => {
  "use strict";
  const BOT = document.getElementById("title").textContent;
  const log = document.getElementById("log"), chips = document.getElementById("chips");
  const form = document.getElementById("form"), input = document.getElementById("text");
  const send = document.getElementById("send"), state = document.getElementById("state");
  const photoButton = document.getElementById("photo"), placeButton = document.getElementById("place");
  const file = document.getElementById("file"), T = document.body.dataset;
  const KEY = "minwon-chat";
  const saved = JSON.parse(localStorage.getItem(KEY) || "null") || {};
  // A new conversation id: 128 random bits from the browser's cryptographic generator (also on plain http).
  const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  // The id and the key the gateway gave for it stay in this browser, so the conversation survives a reload;
  // without the key no other page can take the conversation over.
  let sender = saved.sender || newId(), token = saved.token || "";
  const history = saved.history || [];
  let socket = null, retry = 500, queue = [];

  // A photo shown from this page's memory (blob:) is not kept past a reload: the bubble's text says it was sent.
  const kept = (e) => (e.image && e.image.startsWith("blob:") ? {...e, image: undefined} : e);
  const persist = () => localStorage.setItem(KEY, JSON.stringify({sender, token, history: history.slice(-100).map(kept)}));
  const clock = (t) => new Date(t).toLocaleTimeString("ko-KR", {hour: "numeric", minute: "2-digit"});

  function bubble(entry) {
    const row = document.createElement("div");
    row.className = "row " + (entry.me ? "me" : "bot");
    const col = document.createElement("div");
    col.className = "col";
    const body = document.createElement("div");
    body.className = "bubble";
    body.textContent = entry.text || "";
    if (entry.image) {
      const img = document.createElement("img");
      img.src = entry.image; img.alt = "";
      body.appendChild(img);
    }
    const time = document.createElement("span");
    time.className = "time";
    time.textContent = clock(entry.at);
    if (!entry.me) {
      const who = entry.author || BOT;
      const avatar = document.createElement("div");
      avatar.className = "avatar" + (entry.author ? " person" : ""); avatar.textContent = who.slice(0, 1);
      row.appendChild(avatar);
      const name = document.createElement("div");
      name.className = "name"; name.textContent = who;
      col.appendChild(name);
    }
    if (entry.text || entry.image || !entry.cards) col.appendChild(body);
    if (entry.cards && entry.cards.length) col.appendChild(cards(entry.cards));
    const links = (entry.buttons || []).filter((b) => b.url || b.phone);
    if (links.length) {
      const box = document.createElement("div");
      box.className = "links";
      for (const b of links) {
        const a = document.createElement("a");
        a.textContent = b.title;
        a.href = b.url || ("tel:" + b.phone);
        if (b.url) { a.target = "_blank"; a.rel = "noopener noreferrer"; }
        box.appendChild(a);
      }
      col.appendChild(box);
    }
    if (entry.me) { row.appendChild(time); row.appendChild(col); } else { row.appendChild(col); row.appendChild(time); }
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }

  // The city's posts: cards side by side that the citizen swipes, each with its picture, title, date and
  // summary, and a link that opens the post.
  function cards(list) {
    const row = document.createElement("div");
    row.className = "cards";
    for (const c of list) {
      const card = document.createElement("article");
      card.className = "card";
      if (c.image) {
        const img = document.createElement("img");
        img.src = c.image; img.alt = ""; img.loading = "lazy";
        img.addEventListener("error", () => img.remove());
        card.appendChild(img);
      }
      const title = document.createElement("h3");
      title.textContent = c.title;
      const text = document.createElement("p");
      text.textContent = c.text || "";
      card.append(title, text);
      if (c.url) {
        const open = document.createElement("a");
        open.textContent = c.button || c.title;
        open.href = c.url; open.target = "_blank"; open.rel = "noopener noreferrer";
        card.appendChild(open);
      } else if (c.payload) {  // a press (소통라이브's 공감): sent like a chip's
        const press = document.createElement("button");
        press.type = "button"; press.textContent = c.button || c.title;
        press.addEventListener("click", () => say(press.textContent, c.payload));
        card.appendChild(press);
      }
      row.appendChild(card);
    }
    return row;
  }

  function showChips(buttons) {
    chips.replaceChildren();
    for (const b of (buttons || []).filter((b) => b.payload)) {
      const chip = document.createElement("button");
      chip.type = "button"; chip.textContent = b.title;
      chip.addEventListener("click", () => say(b.title, b.payload));
      chips.appendChild(chip);
    }
    log.scrollTop = log.scrollHeight;  // the row took room from the log: its newest line stays in sight
  }

  function add(entry) { history.push(entry); persist(); bubble(entry); }

  function say(text, payload, extra) {
    if (!text.trim() && !extra) return;
    add({me: true, text: text || (extra.image ? T.photoSent : T.placeSent), image: extra && extra.preview, at: Date.now()});
    showChips([]);
    const frame = {sender, text};
    if (payload) frame.payload = payload;
    if (extra && extra.image) frame.image = extra.image;
    if (extra && extra.location) frame.location = extra.location;
    const raw = JSON.stringify(frame);
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(raw); else queue.push(raw);
  }

  function note(text) { add({me: false, text, at: Date.now()}); }

  // A photo: uploaded first (its place read only if the citizen agrees), then sent as a message.
  photoButton.hidden = !(Number(T.photoMax) > 0);
  photoButton.addEventListener("click", () => file.click());
  file.addEventListener("change", async () => {
    const picked = file.files[0]; file.value = "";
    if (!picked) return;
    if (picked.size > Number(T.photoMax)) { note(T.tooBig); return; }
    const withPlace = window.confirm(T.consent);
    try {
      const response = await fetch("/web/upload" + (withPlace ? "?location=1" : ""), {
        method: "POST", body: picked,
        headers: {"Content-Type": picked.type || "application/octet-stream", "X-Chat-Sender": sender, "X-Chat-Token": token},
      });
      const answer = await response.json();
      if (!response.ok) { note(answer.error); return; }
      say("", null, {image: answer.image, location: answer.location || undefined, preview: URL.createObjectURL(picked)});
    } catch (error) { note(T.uploadFailed); }
  });

  // The browser's own place (it asks the citizen's permission itself).
  placeButton.hidden = !navigator.geolocation;
  placeButton.addEventListener("click", () => {
    navigator.geolocation.getCurrentPosition(
      (where) => say("", null, {location: {latitude: where.coords.latitude, longitude: where.coords.longitude}}),
      () => note(T.placeFailed),
      {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000},
    );
  });

  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/web/ws";
    socket = new WebSocket(url);
    socket.onopen = () => {
      retry = 500; state.textContent = ""; send.disabled = false;
      socket.send(JSON.stringify({type: "hello", sender, token}));
      while (queue.length) socket.send(queue.shift());
    };
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "session") { token = data.token; persist(); return; }
      if (data.type === "error" && data.code === "session") {
        // This browser lost the conversation's key: start a new conversation (the old one stays with the city).
        sender = newId(); token = ""; persist();
        socket.send(JSON.stringify({type: "hello", sender, token}));
      }
      const messages = data.type === "messages" ? data.messages : [{text: data.text, buttons: []}];
      let last = [];
      for (const m of messages) { add({me: false, text: m.text, buttons: m.buttons, image: m.image, cards: m.cards, author: m.author, at: Date.now()}); last = m.buttons || last; }
      showChips(last);
    };
    socket.onclose = () => {
      state.textContent = "연결 중…"; send.disabled = true;
      setTimeout(connect, retry); retry = Math.min(retry * 2, 10000);
    };
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value; input.value = "";
    say(text);
  });
  for (const entry of history) bubble(entry);
  const lastBot = [...history].reverse().find((e) => !e.me);
  if (lastBot) showChips(lastBot.buttons);
  persist();
  connect();
  if (!history.length) { queue.push(JSON.stringify({sender, text: "안녕하세요"})); }
})();
