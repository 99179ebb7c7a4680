// Linkage Gateway supervisor console: draws each page from the JSON APIs. No build step, no CDN.
"use strict";
(function () {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const S = boot.strings;
  const t = (k) => S[k] || k;
  const main = document.getElementById("app");

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  async function api(path, opts) {
    const res = await fetch(path, Object.assign({ credentials: "same-origin", headers: { "X-CSRF-Token": boot.csrf } }, opts || {}));
    if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); throw new Error("login"); }
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.statusText);
    return body;
  }

  const fmtTime = (iso) => {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString(boot.lang === "zh" ? "zh-CN" : "en-GB", { hour12: false });
  };
  const fmtSec = (s) => { s = Math.max(0, s || 0); return Math.floor(s / 60) + ":" + String(Math.floor(s % 60)).padStart(2, "0"); };
  const pct = (x) => (x === null || x === undefined) ? "—" : Math.round(x * 100) + "%";
  const mayHear = boot.user.role !== "agency" || boot.user.grant_recordings;
  const evName = (type) => S["ev_" + type] || type;
  const routeName = (r) => S["route_" + r] || r;
  const agencyName = (a) => (boot.agencies || {})[a] || a;

  // ---- search -------------------------------------------------------------------------------
  function searchPage() {
    const params = new URLSearchParams(location.search);
    const input = (name, label, type) => el("label", {}, label,
      el("input", { name, id: "f-" + name, type: type || "text", value: params.get(name) || "" }));
    const select = (name, label, options) => el("label", {}, label,
      el("select", { name, id: "f-" + name },
        el("option", { value: "" }, t("any")),
        options.map(([v, text]) => el("option", { value: v, selected: params.get(name) === v }, text))));
    const routes = ["police", "fire", "medical", "emergency", "hotline", "not_accepted", "review"];
    const statuses = ["created", "delivered", "accepted", "arrived", "handled", "returned", "closed"];
    const form = el("form", { id: "search-form", class: "filters" },
      mayHear ? input("q", t("text")) : null, input("caller", t("caller")), input("from", t("date_from"), "date"),
      input("to", t("date_to"), "date"), select("route", t("route"), routes.map((r) => [r, routeName(r)])),
      select("agency", t("agency"), Object.entries(boot.agencies || {}).map(([c, n]) => [c, n])),
      select("status", t("status"), statuses.map((s) => [s, evName(s)])),
      el("label", { class: "check" }, el("input", { type: "checkbox", name: "overdue", id: "f-overdue", value: "1", checked: params.get("overdue") === "1" }), t("overdue")),
      el("button", { type: "submit", id: "search-submit" }, t("search")));
    const out = el("section", { id: "results" });
    main.append(el("h1", {}, t("nav_search")), form, out);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
      history.replaceState(null, "", "/search?" + q);
      run(q);
    });
    async function run(q) {
      out.replaceChildren(el("p", { class: "muted" }, "…"));
      try {
        const r = await api("/api/search?" + q);
        if (!r.results.length) { out.replaceChildren(el("p", { id: "no-results" }, t("no_results"))); return; }
        out.replaceChildren(el("p", { class: "muted", id: "result-count" }, r.total + " " + t("results")),
          el("table", { class: "grid" },
            el("thead", {}, el("tr", {}, [t("started_at"), t("caller"), t("legs"), t("tickets"), t("text"), ""].map((h) => el("th", {}, h)))),
            el("tbody", {}, r.results.map((row) => el("tr", { class: "result" },
              el("td", {}, fmtTime(row.started_at)),
              el("td", {}, row.caller || "—"),
              el("td", {}, row.legs.map((l) => el("span", { class: "tag leg-" + l }, l))),
              el("td", {}, row.tickets.map((tk) => el("span", { class: "tag" + (tk.overdue ? " bad" : "") },
                [routeName(tk.route), tk.agency && agencyName(tk.agency), evName(tk.status)].filter(Boolean).join(" · ")))),
              el("td", { class: "snippet" }, row.snippet || ""),
              el("td", {}, el("a", { href: "/call/" + encodeURIComponent(row.incident_id), class: "open-call" }, t("open"))))))));
      } catch (e) { out.replaceChildren(el("p", { class: "error", id: "search-error" }, e.message)); }
    }
    if ([...params.keys()].length) run(params);
  }

  // ---- call page -------------------------------------------------------------------------------
  function player(rec) {
    const wrap = el("div", { class: "recording", "data-recording": rec.recording_id });
    wrap.append(el("h3", {}, (S["side_" + rec.side] || rec.side) + " · " + fmtSec(rec.duration_s)));
    if (rec.withheld) { wrap.append(el("p", { class: "notice withheld" }, t("withheld"))); return wrap; }
    if (rec.deleted_at) wrap.append(el("p", { class: "notice deleted" }, t("deleted") + " (" + fmtTime(rec.deleted_at) + ")"));
    let audio = null;
    if (rec.url) {
      audio = el("audio", { controls: true, preload: "none", src: rec.url, class: "audio" });
      const speed = el("select", { class: "speed", "aria-label": t("speed") },
        [0.5, 0.75, 1, 1.25, 1.5, 2].map((v) => el("option", { value: v, selected: v === 1 }, v + "×")));
      speed.addEventListener("change", () => { audio.playbackRate = Number(speed.value); });
      wrap.append(el("div", { class: "controls" }, audio,
        el("button", { type: "button", class: "back5", onclick: () => { audio.currentTime = Math.max(0, audio.currentTime - 5); } }, "⟲ " + t("back5")),
        el("button", { type: "button", class: "fwd5", onclick: () => { audio.currentTime = Math.min(audio.duration || 1e9, audio.currentTime + 5); } }, t("fwd5") + " ⟳"),
        el("label", { class: "speed-label" }, t("speed"), speed),
        el("a", { href: rec.download_url, class: "download" }, t("download"))));
    }
    if (rec.transcript) wrap.append(transcriptView(rec.transcript, audio));
    return wrap;
  }

  function transcriptView(tr, audio) {
    const words = [];
    const box = el("div", { class: "transcript" });
    for (const seg of tr.segments) {
      const line = el("p", { class: "seg speaker-" + seg.speaker },
        el("span", { class: "speaker" }, (S["speaker_" + seg.speaker] || seg.speaker) + " " + fmtSec(seg.start)));
      for (const w of seg.words) {
        const span = el("span", { class: "word", "data-start": w.start, "data-end": w.end, title: fmtSec(w.start) }, w.w);
        if (audio) span.addEventListener("click", () => { audio.currentTime = w.start + 0.001; highlight(); if (audio.paused) audio.play().catch(() => {}); });
        words.push({ span, start: w.start, end: w.end });
        line.append(span);
      }
      box.append(line);
    }
    if (!tr.segments.length) box.append(el("p", {}, tr.text));
    let current = null;
    function highlight() {
      const now = audio.currentTime;
      let found = null;
      for (const w of words) { if (w.start <= now && now < w.end) { found = w; break; } if (w.start > now) break; }
      if (!found) for (const w of words) { if (w.start <= now) found = w; else break; }
      if (found !== current) {
        if (current) current.span.classList.remove("current");
        if (found) { found.span.classList.add("current"); found.span.scrollIntoView({ block: "nearest" }); }
        current = found;
      }
    }
    if (audio) {
      let raf = 0;
      const loop = () => { highlight(); if (!audio.paused) raf = requestAnimationFrame(loop); };
      audio.addEventListener("play", () => { cancelAnimationFrame(raf); raf = requestAnimationFrame(loop); });
      audio.addEventListener("seeked", highlight);
      audio.addEventListener("timeupdate", highlight);
    }
    return el("div", { class: "transcript-wrap" }, el("h4", {}, t("transcript")), box);
  }

  function triageView(tr) {
    if (!tr) return null;
    const terms = tr.matched_terms || tr.matched || tr.terms || [];
    const termText = (x) => typeof x === "string" ? x : (x.term || x.text || x.word || JSON.stringify(x));
    return el("section", { class: "card triage", id: "triage" }, el("h2", {}, t("triage")),
      el("dl", {},
        el("dt", {}, t("route")), el("dd", { id: "triage-route" }, tr.route ? routeName(tr.route) : "—"),
        el("dt", {}, t("agency")), el("dd", {}, tr.agency ? agencyName(tr.agency) : "—"),
        el("dt", {}, t("confidence")), el("dd", {}, tr.confidence !== undefined ? pct(tr.confidence) : "—"),
        el("dt", {}, t("matched_terms")), el("dd", {}, terms.map((x) => el("mark", { class: "term" }, termText(x))))));
  }

  function ticketView(tk) {
    const badge = (state) => state ? el("span", { class: "badge " + state }, t(state)) : null;
    return el("section", { class: "card ticket", "data-ticket": tk.ticket_id },
      el("h2", {}, t("timeline") + " · " + tk.ticket_id + " ",
        tk.kind === "callback" ? el("span", { class: "badge callback" }, t("callback")) : null),
      el("p", {}, [routeName(tk.route), tk.agency && agencyName(tk.agency), tk.category, evName(tk.status)].filter(Boolean).join(" · ")),
      tk.summary ? el("p", { class: "summary" }, tk.summary) : null,
      el("ul", { class: "deadlines" }, tk.deadlines.map((d) => el("li", {}, t(d.kind) + ": " + fmtTime(d.due) + " ", badge(d.state)))),
      el("ol", { class: "timeline" }, tk.events.map((e) => el("li", { class: "ev ev-" + e.type },
        el("time", {}, fmtTime(e.at)), " ", el("strong", {}, evName(e.type)), e.actor ? " · " + e.actor : "",
        e.due ? el("span", { class: "due" }, " " + t("deadline") + " " + fmtTime(e.due) + " ") : null, badge(e.deadline)))));
  }

  async function callPage() {
    const id = boot.incident_id;
    main.append(el("h1", {}, t("incident") + " " + id));
    let data;
    try { data = await api("/api/incidents/" + encodeURIComponent(id)); } catch (e) {
      main.append(el("p", { class: "error", id: "call-error" }, e.message)); return;
    }
    const legs = el("div", { class: "legs" });
    for (const leg of data.legs) {
      legs.append(el("section", { class: "card leg", "data-leg": leg.leg },
        el("h2", {}, (S["leg_" + leg.leg] || leg.leg) + (leg.started_at ? " · " + fmtTime(leg.started_at) : "")),
        el("p", { class: "muted" }, [leg.caller, leg.agent, leg.outcome && (S["outcome_" + leg.outcome] || leg.outcome)].filter(Boolean).join(" · ")),
        leg.recordings.map(player)));
    }
    for (const tr of data.transcripts) legs.append(el("section", { class: "card" }, transcriptView(tr, null)));
    const side = el("div", { class: "side" }, triageView(data.triage), data.tickets.map(ticketView));
    main.append(el("div", { class: "call-layout" }, legs, side));
  }

  // ---- dashboard -----------------------------------------------------------------------------
  function barChart(rows) {
    const keys = [["response_rate", "#2b6cb0"], ["resolution_rate", "#2f855a"], ["satisfaction_rate", "#c05621"]];
    const ns = "http://www.w3.org/2000/svg";
    const rowH = 54, left = 150, width = 720, barW = width - left - 60;
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${rows.length * rowH + 30}`);
    svg.setAttribute("class", "chart");
    svg.setAttribute("role", "img");
    const add = (tag, attrs, text) => { const n = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); if (text !== undefined) n.textContent = text; svg.append(n); return n; };
    keys.forEach(([k, color], i) => { add("rect", { x: left + i * 120, y: 4, width: 12, height: 12, fill: color }); add("text", { x: left + i * 120 + 16, y: 15, "font-size": 12 }, t(k)); });
    rows.forEach((r, i) => {
      const y = 30 + i * rowH;
      add("text", { x: left - 8, y: y + 26, "text-anchor": "end", "font-size": 13 }, r.name);
      keys.forEach(([k, color], j) => {
        const v = r[k];
        const yy = y + j * 15;
        add("rect", { x: left, y: yy, width: barW, height: 12, fill: "#edf2f7" });
        if (v !== null && v !== undefined) add("rect", { x: left, y: yy, width: Math.max(1, v * barW), height: 12, fill: color, class: "bar " + k });
        add("text", { x: left + barW + 6, y: yy + 11, "font-size": 11 }, pct(v));
      });
    });
    return svg;
  }

  async function dashboardPage() {
    main.append(el("h1", {}, t("nav_dashboard")));
    const d = await api("/api/dashboard");
    const cards = [["calls_today", d.calls_today], ["diverted", d.diverted], ["overflowed", d.overflowed],
      ["handed_back", d.handed_back], ["overdue_tickets", d.overdue_tickets]];
    main.append(el("div", { class: "kpis" }, cards.map(([k, v]) => el("div", { class: "kpi" + (k === "overdue_tickets" && v ? " bad" : ""), id: "kpi-" + k },
      el("div", { class: "num" }, String(v)), el("div", { class: "lbl" }, t(k))))));
    main.append(el("section", { class: "card" }, el("h2", {}, t("rates")),
      d.agencies.length ? barChart(d.agencies) : el("p", {}, t("no_data"))));
  }

  // ---- audit -------------------------------------------------------------------------------------
  async function auditPage() {
    const params = new URLSearchParams(location.search);
    const form = el("form", { class: "filters", id: "audit-form" },
      el("label", {}, t("audit_user"), el("input", { name: "user", value: params.get("user") || "" })),
      el("label", {}, t("audit_action"), el("select", { name: "action", id: "audit-action" }, el("option", { value: "" }, t("any")),
        ["search", "view", "playback", "download", "login", "login_failed", "logout", "denied", "retention"].map((a) => el("option", { value: a, selected: params.get("action") === a }, a)))),
      el("button", { type: "submit" }, t("search")));
    const out = el("section", { id: "audit" });
    main.append(el("h1", {}, t("nav_audit")), form, out);
    form.addEventListener("submit", (ev) => { ev.preventDefault(); const q = new URLSearchParams(); for (const [k, v] of new FormData(form)) if (v) q.set(k, v); history.replaceState(null, "", "/audit?" + q); run(q); });
    async function run(q) {
      const r = await api("/api/audit?" + q);
      out.replaceChildren(el("table", { class: "grid" },
        el("thead", {}, el("tr", {}, [t("audit_at"), t("audit_user"), t("audit_action"), t("audit_target"), t("audit_detail")].map((h) => el("th", {}, h)))),
        el("tbody", {}, r.entries.map((e) => el("tr", { class: "audit-row action-" + e.action },
          el("td", {}, fmtTime(e.at)), el("td", {}, e.user_name || "—"), el("td", { class: "action" }, e.action),
          el("td", { class: "target" }, e.target || ""), el("td", { class: "detail" }, JSON.stringify(e.detail)))))));
    }
    run(params);
  }

  const pages = { search: searchPage, call: callPage, dashboard: dashboardPage, audit: auditPage };
  Promise.resolve(pages[boot.page] && pages[boot.page]()).then(() => { document.body.dataset.ready = "1"; },
    (e) => { main.append(el("p", { class: "error" }, e.message)); document.body.dataset.ready = "1"; });
})();
