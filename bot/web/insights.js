(() => {
  const $ = (id) => document.getElementById(id);
  const charts = {};
  let figures = null;
  Chart.defaults.font.family = '"NanumGothic", "Noto Sans KR", sans-serif';
  Chart.defaults.animation = false;
  Chart.defaults.scales.linear.ticks.precision = 0;  // counts of tickets: whole numbers

  async function api(path) {
    const response = await fetch("/agent/api/" + path, {credentials: "same-origin"});
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) { $("notice").textContent = "상담 콘솔에서 로그인한 뒤 다시 열어 주세요."; throw new Error("login"); }
    if (!response.ok) { $("notice").textContent = data.error || ("오류 " + response.status); throw new Error(data.error); }
    return data;
  }
  const el = (tag, props = {}, ...children) => { const n = Object.assign(document.createElement(tag), props); n.append(...children); return n; };
  const label = (kind, value) => (figures.labels[kind] || {})[value] || value || "미상";
  const fmt = (n) => Number(n).toLocaleString("ko-KR");

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart($(id), config);
  }

  function render() {
    const f = figures;
    $("since").value = f.period.since; $("until").value = f.period.until;
    const open = f.by_status.filter((r) => !["resolved", "rejected"].includes(r.status)).reduce((a, r) => a + r.tickets, 0);
    const overdue = f.by_department.reduce((a, r) => a + r.overdue, 0);
    $("numbers").replaceChildren(...[["접수", f.total], ["처리 중", open], ["기한 지남", overdue],
      ["상담원 연결", f.handoffs.handoffs], ["위기 상담", f.handoffs.crises]].map(([name, n]) =>
      el("div", {className: "number"}, el("b", {textContent: fmt(n)}), el("span", {textContent: name}))));
    const top = f.by_district.slice(0, 20);
    draw("districts", {type: "bar", data: {labels: top.map((r) => r.district || "미상"), datasets: [
      {label: "처리 중", data: top.map((r) => r.open), backgroundColor: "#f59e0b"},
      {label: "처리 끝", data: top.map((r) => r.tickets - r.open), backgroundColor: "#1f3a68"}]},
      options: {indexAxis: "y", scales: {x: {stacked: true}, y: {stacked: true}}}});
    draw("weeks", {type: "line", data: {labels: f.weeks.map((w) => w.week), datasets: [
      {label: "접수", data: f.weeks.map((w) => w.tickets), borderColor: "#1f3a68", backgroundColor: "#1f3a68"},
      {label: "처리 끝", data: f.weeks.map((w) => w.closed), borderColor: "#16a34a", backgroundColor: "#16a34a"}]}});
    draw("fallbacks", {type: "bar", data: {labels: f.fallback_weeks.map((w) => w.week), datasets: [
      {label: "못 알아들음 (%)", data: f.fallback_weeks.map((w) => Math.round(w.rate * 1000) / 10), backgroundColor: "#dc2626"}]},
      options: {plugins: {legend: {display: false}, tooltip: {callbacks: {afterLabel: (item) => {
        const w = f.fallback_weeks[item.dataIndex]; return `${fmt(w.fallbacks)} / ${fmt(w.messages)}건`; }}}}}});
    draw("categories", {type: "bar", data: {labels: f.by_category.map((r) => label("category", r.category)),
      datasets: [{label: "민원", data: f.by_category.map((r) => r.tickets), backgroundColor: "#3b82f6"}]},
      options: {plugins: {legend: {display: false}}}});
    draw("statuses", {type: "doughnut", data: {labels: f.by_status.map((r) => label("status", r.status)),
      datasets: [{data: f.by_status.map((r) => r.tickets), backgroundColor: ["#f59e0b", "#3b82f6", "#8b5cf6", "#16a34a", "#9ca3af"]}]}});
    draw("channels", {type: "bar", data: {labels: f.by_channel.map((r) => label("channel", r.channel)),
      datasets: [{label: "민원", data: f.by_channel.map((r) => r.tickets), backgroundColor: "#0ea5e9"}]},
      options: {plugins: {legend: {display: false}}}});
    $("departments").replaceChildren(
      el("tr", {}, ...["부서", "접수", "처리 중", "기한 지남", "처리 일수(중앙값)"].map((t, i) => el("th", {className: i ? "" : "name", textContent: t}))),
      ...f.by_department.map((r) => el("tr", {}, el("td", {className: "name", textContent: r.department}),
        el("td", {textContent: fmt(r.tickets)}), el("td", {textContent: fmt(r.open)}), el("td", {textContent: fmt(r.overdue)}),
        el("td", {textContent: r.median_days === null ? "-" : r.median_days + "일"}))));
    const rated = [...f.satisfaction.by_department.map((r) => ["부서", r.department || "미상", r]),
      ...f.satisfaction.by_agent.map((r) => ["상담원", r.agent, r])];
    $("satisfaction").replaceChildren(
      el("tr", {}, ...["", "이름", "평균", "응답"].map((t, i) => el("th", {className: i < 2 ? "name" : "", textContent: t}))),
      ...(rated.length ? rated.map(([kind, name, r]) => el("tr", {}, el("td", {className: "name", textContent: kind}),
        el("td", {className: "name", textContent: name}), el("td", {textContent: r.mean.toFixed(1)}), el("td", {textContent: fmt(r.answers)})))
        : [el("tr", {}, el("td", {colSpan: 4, className: "name", textContent: "이 기간에 받은 응답이 없어요."}))]));
    const categories = f.by_category.map((r) => r.category);
    const cells = new Map(f.by_district_category.map((r) => [r.district + "|" + r.category, r.tickets]));
    const most = Math.max(1, ...f.by_district_category.map((r) => r.tickets));
    $("heat").replaceChildren(
      el("tr", {}, el("th", {className: "name", textContent: "읍·면·동"}), ...categories.map((c) => el("th", {textContent: label("category", c)}))),
      ...f.by_district.map((d) => el("tr", {}, el("td", {className: "name", textContent: d.district || "미상"}), ...categories.map((c) => {
        const n = cells.get(d.district + "|" + c) || 0;
        const cell = el("td", {textContent: n ? fmt(n) : ""});
        cell.style.background = n ? `rgba(220, 38, 38, ${0.08 + 0.72 * n / most})` : "";
        return cell;
      }))));
  }

  async function load() {
    const query = new URLSearchParams();
    for (const id of ["since", "until", "department"]) if ($(id).value) query.set(id, $(id).value);
    try { figures = await api("insights?" + query); } catch (e) { return; }
    $("notice").textContent = "";
    render();
  }

  function download(name, href) {
    const link = el("a", {href, download: name});
    document.body.append(link); link.click(); link.remove();
  }

  $("csv").addEventListener("click", () => {
    if (!figures) return;
    const rows = [["읍·면·동", "분류", "접수", "처리 중", "기한 지남"], ...figures.by_district_category.map((r) =>
      [r.district || "미상", label("category", r.category), r.tickets, r.open, r.overdue])];
    const text = rows.map((r) => r.map((v) => `"${String(v).replace(/"/g, '""')}"`).join(",")).join("\r\n");
    const blob = new Blob(["\ufeff" + text], {type: "text/csv;charset=utf-8"});
    download(`민원현황_${figures.period.since}_${figures.period.until}.csv`, URL.createObjectURL(blob));
  });
  for (const button of document.querySelectorAll("button.png")) {
    button.addEventListener("click", () => {
      const chart = charts[button.dataset.chart];
      if (chart) download(`${button.dataset.chart}.png`, chart.toBase64Image("image/png", 1));
    });
  }
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });

  (async () => {
    let me;
    try { me = await api("tickets/options"); } catch (e) { return; }
    $("who").textContent = `${me.name} 님` + (me.department ? ` · ${me.department}` : "");
    if (me.role === "staff") $("department-label").style.display = "none";
    for (const d of me.departments) $("department").append(el("option", {value: d, textContent: d}));
    load();
  })();
})();
