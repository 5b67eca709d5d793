// What the console's pages share (news.js, live.js): the API with the login's CSRF token, and building rows.
window.consolePage = (() => {
  const $ = (id) => document.getElementById(id);
  let csrf = "";

  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  };
  const when = (iso) => iso ? new Date(iso).toLocaleString("ko-KR", {timeZone: "Asia/Seoul", dateStyle: "short", timeStyle: "short"}) : "";
  const row = (cells, tag = "td") => el("tr", {}, ...cells.map((c) => c instanceof Node ? el(tag, {}, c) : el(tag, {textContent: String(c)})));

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify(body),
    };
    const response = await fetch("/agent/api/" + path, {credentials: "same-origin", ...options});
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) {
      document.querySelector("main").replaceChildren(el("p", {textContent: "상담 콘솔에서 로그인한 뒤 다시 열어 주세요."}),
        el("a", {href: "/agent", textContent: "로그인하러 가기"}));
      throw new Error("로그인이 필요해요.");
    }
    if (!response.ok) throw new Error(data.error || ("오류 " + response.status));
    return data;
  }

  // Read the login's CSRF token; false when nobody is logged in (the page then says so).
  async function start() {
    try { csrf = (await api("me")).csrf; return true; } catch (e) { return false; }
  }

  return {$, el, when, row, api, start};
})();
