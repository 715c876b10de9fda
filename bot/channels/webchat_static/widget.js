/*! salesbot web-chat widget. Embed with one tag:
 *  <script src="https://HOST/widget.js" data-flow="default" defer></script>
 * Optional: data-title (header), data-color (#hex, rgb() or hsl()), data-position ("right" | "left"),
 * data-open="true" (open on load), data-greeting (launcher tooltip), data-source (kept with the lead; utm_*
 * come from the page URL). Any element with a data-salesbot-open attribute opens the chat when clicked.
 * window.SalesbotWidget: open(), close(), reset() (forget this visitor's chat and start over).
 * Speaks the JSON API of docs/webchat-api.md. Message text is only ever set with textContent. */
(() => {
  "use strict";
  if (window.SalesbotWidget) return;
  // Captured now: with `defer`, currentScript is only set while this file runs.
  const script = document.currentScript || document.querySelector("script[src*='widget.js']");
  if (!script) return;
  const cfg = script.dataset;
  const API = new URL(script.src, location.href).origin;
  const FLOW = cfg.flow || "default";
  const TITLE = cfg.title || "Chat with us";
  const COLOR_RE = /^(#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})|(rgb|hsl)a?\(([\d\s.,%/+-]|deg|turn)+\))$/i;
  const COLOR = COLOR_RE.test(cfg.color || "") ? cfg.color : "#4338ca";
  const KEY = "salesbot:" + API + ":" + FLOW;
  const SAFE_URL = /^(https?|mailto|tel):$/;
  const SVG = "http://www.w3.org/2000/svg";
  const ICONS = {
    chat: "M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z",
    down: "M7.41 8.59 12 13.17l4.59-4.58L18 10l-6 6-6-6z",
    close: "M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z",
    send: "M2.01 21 23 12 2.01 3 2 10l15 2-15 2z",
    out: "M14 3h7v7h-2V6.41l-9.29 9.3-1.42-1.42L17.59 5H14zM5 5h5v2H5v12h12v-5h2v5a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2z",
  };

  // ------------------------------------------------------------------ persistence

  const saved = {
    get() {
      try {
        const v = JSON.parse(localStorage.getItem(KEY));
        return v && typeof v.id === "string" && typeof v.token === "string" ? v : null;
      } catch { return null; }
    },
    set(v) {
      try { v ? localStorage.setItem(KEY, JSON.stringify(v)) : localStorage.removeItem(KEY); } catch { /* private mode */ }
    },
  };

  let session = saved.get(); // {id, token, last}
  let last = 0; // highest message id rendered
  let isOpen = false;
  let es = null;
  let syncTimer = 0;
  let syncDelay = 1000;
  let starting = null;
  let busy = 0;
  let queue = Promise.resolve();
  let retryFn = null;
  const seen = new Map(); // message id -> element
  const pending = new Map(); // optimistic prospect bubble -> its text
  const groups = []; // [message id, option group element]
  let labels = new Map(); // option id -> label, of the newest question with options

  function save() {
    if (!session) return;
    const stored = saved.get();
    session.last = Math.max(last, stored && stored.id === session.id ? +stored.last || 0 : 0);
    saved.set(session);
  }

  // ------------------------------------------------------------------ DOM helpers

  const h = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  };
  const attrs = (e, a) => {
    for (const k of Object.keys(a)) e.setAttribute(k, a[k]);
    return e;
  };
  const on = (e, type, fn) => e.addEventListener(type, fn);
  const icon = (name, cls) => {
    const s = attrs(document.createElementNS(SVG, "svg"), { viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" });
    if (cls) s.setAttribute("class", cls);
    s.append(attrs(document.createElementNS(SVG, "path"), { d: ICONS[name] }));
    return s;
  };
  const button = (cls, text, label) => {
    const b = h("button", cls, text);
    b.type = "button";
    if (label) b.setAttribute("aria-label", label);
    return b;
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const uuid = () => {
    const c = window.crypto;
    if (c && c.randomUUID) return "c-" + c.randomUUID();
    if (c && c.getRandomValues) return "c-" + Array.from(c.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    return "c-" + Date.now().toString(36) + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  };

  const CSS = `
:host{all:initial}
*{box-sizing:border-box}
.root{--a:${COLOR};--on:#fff;--ink:var(--a);position:fixed;z-index:2147483000;bottom:20px;right:20px;color:#1f2937;
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-font-smoothing:antialiased}
.root.left{right:auto;left:20px}
[hidden]{display:none!important}
button{font:inherit;cursor:pointer}
svg{width:20px;height:20px;fill:currentColor;flex:none}
button:focus-visible,a:focus-visible{outline:3px solid var(--ink);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.launcher{position:relative;width:60px;height:60px;border:0;border-radius:50%;background:var(--a);color:var(--on);display:grid;
place-items:center;box-shadow:0 8px 24px rgba(15,23,42,.28);transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.launcher svg{width:28px;height:28px}
.launcher .i-down,.open .launcher .i-chat{display:none}
.open .launcher .i-down{display:block}
.dot{position:absolute;top:3px;right:3px;width:14px;height:14px;border-radius:50%;background:#dc2626;border:2px solid #fff}
.tip{position:absolute;bottom:72px;right:0;width:max-content;max-width:240px;padding:10px 14px;border-radius:12px;background:#fff;
box-shadow:0 6px 24px rgba(15,23,42,.18);font-size:14px;opacity:0;transform:translateY(4px);transition:.2s;pointer-events:none}
.left .tip,.left .panel{right:auto;left:0}
.root:not(.open) .launcher:is(:hover,:focus-visible)~.tip{opacity:1;transform:none}
.panel{position:absolute;bottom:76px;right:0;width:380px;height:min(620px,calc(100vh - 120px));display:flex;flex-direction:column;
background:#f8fafc;border-radius:16px;overflow:hidden;box-shadow:0 16px 48px rgba(15,23,42,.24),0 0 0 1px rgba(15,23,42,.06)}
header{display:flex;align-items:center;gap:12px;padding:14px 12px 14px 16px;background:var(--a);color:var(--on)}
.avatar{width:36px;height:36px;border-radius:50%;display:grid;place-items:center;background:rgba(255,255,255,.2)}
h2{flex:1;margin:0;font-size:16px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.x{width:36px;height:36px;border:0;border-radius:8px;background:transparent;color:inherit;display:grid;place-items:center}
.x:hover{background:rgba(255,255,255,.18)}
.x:focus-visible{outline-color:var(--on);outline-offset:-3px}
.scroll{flex:1;overflow-y:auto;padding:16px 14px;background:#f8fafc}
.log{display:flex;flex-direction:column;gap:10px}
.msg{max-width:86%;display:flex;flex-direction:column;align-items:flex-start;gap:8px;align-self:flex-start}
.text{padding:9px 13px;border-radius:16px 16px 16px 4px;background:#fff;border:1px solid #e5e7eb;white-space:pre-wrap;overflow-wrap:anywhere}
.me{align-self:flex-end;align-items:flex-end}
.me .text{background:var(--a);color:var(--on);border-color:transparent;border-radius:16px 16px 4px 16px}
.pending{opacity:.65}
.failed .text{opacity:.6}
.who{font-size:12px;font-weight:600;color:#047857;margin-bottom:-4px}
.rep .text{background:#ecfdf5;border-color:#a7f3d0}
.opts,.links{display:flex;flex-wrap:wrap;gap:6px}
.opt,.go{padding:7px 13px;border-radius:999px;border:1.5px solid var(--ink);background:#fff;color:var(--ink);font-size:14px;line-height:1.3}
.opt:not(:disabled,.on,[aria-pressed=true]):hover{background:#f1f5f9}
.opt[aria-pressed=true],.opt.on,.go{background:var(--a);color:var(--on);border-color:var(--a)}
.opt[aria-pressed=true]::before{content:"✓ " / ""}
.go{border-radius:10px;padding:7px 18px;font-weight:600}
.br{flex-basis:100%;height:0}
.opt:disabled,.go:disabled{cursor:default;opacity:.5}
.opt.on:disabled{opacity:1}
.link{display:inline-flex;align-items:center;gap:6px;padding:8px 14px;border-radius:10px;background:var(--a);color:var(--on);
font-weight:600;font-size:14px;text-decoration:none}
.link:hover{filter:brightness(1.08)}
.link svg{width:16px;height:16px}
.typing{display:flex;gap:4px;width:max-content;margin-top:10px;padding:13px 14px;border-radius:16px 16px 16px 4px;background:#fff;border:1px solid #e5e7eb}
.typing i{width:7px;height:7px;border-radius:50%;background:#94a3b8;animation:b 1.2s infinite ease-in-out}
.typing i:nth-child(2){animation-delay:.15s}.typing i:nth-child(3){animation-delay:.3s}
@keyframes b{0%,60%,100%{transform:none;opacity:.5}30%{transform:translateY(-4px);opacity:1}}
@media (prefers-reduced-motion:reduce){.typing i{animation:none}.launcher,.tip{transition:none}}
.notice{display:flex;align-items:center;gap:10px;margin:0 12px 10px;padding:8px 12px;border-radius:10px;background:#fffbeb;
border:1px solid #fde68a;color:#78350f;font-size:13px}
.notice span{flex:1}
.retry{border:0;background:none;padding:2px 4px;color:#78350f;font-weight:600;text-decoration:underline}
form{display:flex;align-items:flex-end;gap:8px;padding:10px 12px 12px;border-top:1px solid #e5e7eb;background:#fff}
textarea{flex:1;min-height:42px;max-height:120px;resize:none;padding:10px 12px;border:1px solid #cbd5e1;border-radius:12px;
font:inherit;line-height:1.4;color:#111827;background:#fff}
textarea::placeholder{color:#64748b}
textarea:focus{outline:0;border-color:var(--ink);box-shadow:0 0 0 3px color-mix(in srgb,var(--ink) 22%,transparent)}
.send{width:42px;height:42px;border:0;border-radius:12px;background:var(--a);color:var(--on);display:grid;place-items:center}
@media (max-width:479.98px){
.open .panel{position:fixed;inset:0;width:100%;height:100%;border-radius:0}
.open .launcher{display:none}
textarea{font-size:16px}}`;

  // ------------------------------------------------------------------ the widget's DOM

  let host, root, launcher, dot, panel, scroller, log, typing, notice, noticeText, retry, input;

  function mount() {
    host = h("div");
    host.id = "salesbot-widget";
    const shadow = host.attachShadow({ mode: "open" });
    const style = h("style", null, CSS);
    root = h("div", "root" + (cfg.position === "left" ? " left" : ""));

    launcher = button("launcher", null, TITLE);
    attrs(launcher, { "aria-expanded": "false", "aria-controls": "sb-panel" });
    dot = h("span", "dot");
    dot.hidden = true;
    launcher.append(icon("chat", "i-chat"), icon("down", "i-down"), dot);
    on(launcher, "click", () => (isOpen ? close() : open()));
    root.append(launcher);
    if (cfg.greeting) {
      const tip = h("div", "tip", cfg.greeting);
      tip.id = "sb-tip";
      launcher.setAttribute("aria-describedby", "sb-tip");
      root.append(tip);
    }

    panel = attrs(h("div", "panel"), { id: "sb-panel", role: "dialog", "aria-label": TITLE });
    panel.hidden = true;
    const header = h("header");
    const avatar = h("div", "avatar");
    avatar.append(icon("chat"));
    const x = button("x", null, "Close chat");
    x.append(icon("close"));
    on(x, "click", close);
    header.append(avatar, h("h2", null, TITLE), x);

    scroller = h("div", "scroll");
    log = attrs(h("div", "log"), { role: "log", "aria-live": "polite", "aria-label": "Conversation" });
    typing = attrs(h("div", "typing"), { role: "status", "aria-label": "The assistant is typing" });
    typing.append(h("i"), h("i"), h("i"));
    typing.hidden = true;
    scroller.append(log, typing);

    notice = attrs(h("div", "notice"), { role: "status" });
    noticeText = h("span");
    retry = button("retry", "Retry");
    on(retry, "click", () => {
      const fn = retryFn;
      hideNotice();
      if (fn) fn();
    });
    notice.append(noticeText, retry);
    notice.hidden = true;

    const form = h("form");
    input = attrs(h("textarea"), { id: "sb-input", rows: "1", placeholder: "Type your message…", "aria-label": "Message" });
    const send = button("send", null, "Send message");
    send.type = "submit";
    send.append(icon("send"));
    form.append(input, send);
    on(form, "submit", (e) => {
      e.preventDefault();
      sendText();
    });
    on(input, "keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        sendText();
      }
    });
    on(input, "input", autosize);
    panel.append(header, scroller, notice, form);
    on(panel, "keydown", (e) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        close();
      }
    });
    root.append(panel);
    shadow.append(style, root);
    document.body.append(host);
    pickTextColour();
  }

  // White or near-black text on the accent, whichever reads better (WCAG relative luminance).
  function pickTextColour() {
    const probe = h("i");
    probe.style.color = COLOR;
    root.append(probe);
    const rgb = (getComputedStyle(probe).color.match(/[\d.]+/g) || [0, 0, 0]).slice(0, 3).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    probe.remove();
    if (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] > 0.179) {
      root.style.setProperty("--on", "#111827");
      root.style.setProperty("--ink", "#1f2937");
    }
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 120) + "px";
  }
  const scrollDown = () => { scroller.scrollTop = scroller.scrollHeight; };
  const setTyping = () => { typing.hidden = busy < 1; if (busy) scrollDown(); };

  function notify(text, fn) {
    noticeText.textContent = text;
    retryFn = fn || null;
    retry.hidden = !fn;
    notice.hidden = false;
  }
  function hideNotice() {
    notice.hidden = true;
    retryFn = null;
  }

  // ------------------------------------------------------------------ rendering messages

  // The server echoes a picked option as its id ("churn,data"); show what the prospect clicked instead.
  const shown = (m) => {
    const text = String(m.text || "");
    const ids = text.split(",");
    return m.direction === "in" && ids.every((id) => labels.has(id)) ? ids.map((id) => labels.get(id)).join(", ") : text;
  };

  function bubble(m) {
    const who = m.direction === "in" ? "me" : m.author === "rep" ? "rep" : "bot";
    const row = h("div", "msg " + who);
    if (who === "rep") row.append(h("span", "who", "Sales team"));
    else row.append(h("span", "sr", who === "me" ? "You:" : "Assistant:"));
    if (m.text) row.append(h("div", "text", shown(m)));
    const opts = Array.isArray(m.options) ? m.options.filter((o) => o && o.id != null) : [];
    if (opts.length && m.id != null) row.append(optionGroup(m, opts));
    const links = h("div", "links");
    for (const b of Array.isArray(m.buttons) ? m.buttons : []) {
      let url;
      try { url = new URL(String(b.url)); } catch { continue; }
      if (!SAFE_URL.test(url.protocol)) continue; // javascript:, data: and friends are never links
      const a = attrs(h("a", "link", b.label || url.href), { href: url.href, target: "_blank", rel: "noopener noreferrer" });
      a.append(icon("out"));
      links.append(a);
    }
    if (links.firstChild) row.append(links);
    return row;
  }

  function optionGroup(m, opts) {
    const group = attrs(h("div", "opts"), { role: "group", "aria-label": m.multiple ? "Pick all that apply" : "Pick one" });
    const picked = new Set();
    const go = button("go", "Send");
    labels = new Map(opts.map((o) => [String(o.id), String(o.label || o.id)]));
    const lock = () => {
      for (const b of group.querySelectorAll("button")) b.disabled = true;
      input.focus();
    };
    for (const o of opts) {
      const b = button("opt", o.label || o.id);
      if (m.multiple) {
        b.setAttribute("aria-pressed", "false");
        on(b, "click", () => {
          picked.has(o) ? picked.delete(o) : picked.add(o);
          b.setAttribute("aria-pressed", String(picked.has(o)));
          go.disabled = !picked.size;
        });
      } else {
        on(b, "click", () => {
          b.classList.add("on");
          lock();
          submit({ choice: String(o.id) }, b.textContent, group);
        });
      }
      group.append(b);
    }
    if (m.multiple) {
      go.disabled = true;
      group.append(h("span", "br"));
      on(go, "click", () => {
        const chosen = opts.filter((o) => picked.has(o));
        lock();
        submit({ choice: chosen.map((o) => o.id).join(",") }, chosen.map((o) => o.label || o.id).join(", "), group);
      });
      group.append(go);
    }
    groups.push([m.id, group]);
    return group;
  }

  // Keep the log in id order; optimistic bubbles (no id yet) stay at the end.
  function place(el, id) {
    el.dataset.id = id;
    let ref = null;
    for (let c = log.lastElementChild; c; c = c.previousElementSibling) {
      if (c !== el && (!c.dataset.id || +c.dataset.id > id)) ref = c;
      else if (c !== el) break;
    }
    if (el.nextSibling !== ref || el.parentNode !== log) log.insertBefore(el, ref);
  }

  function render(m, mine) {
    if (!m || typeof m.id !== "number") return;
    if (seen.has(m.id)) {
      if (mine && seen.get(m.id) !== mine) {
        pending.delete(mine);
        mine.remove();
      }
      return;
    }
    let el = null;
    if (m.direction === "in") {
      // Adopt the optimistic bubble of this message (or the same text echoed by the stream first).
      if (mine && pending.has(mine)) el = mine;
      else for (const [p, t] of pending) if (t === shown(m).trim()) { el = p; break; }
    }
    if (el) {
      pending.delete(el);
      el.classList.remove("pending", "failed");
    } else el = bubble(m);
    seen.set(m.id, el);
    place(el, m.id);
    last = Math.max(last, m.id);
  }

  function renderAll(list) {
    if (!Array.isArray(list)) return;
    for (const m of list) render(m);
    // Options of a question already answered can no longer be picked.
    let answered = 0;
    for (const [id, el] of seen) if (el.classList.contains("me")) answered = Math.max(answered, id);
    for (const [id, g] of groups) if (id < answered) for (const b of g.querySelectorAll("button")) b.disabled = true;
    scrollDown();
    save();
  }

  function clearLog() {
    log.textContent = "";
    labels = new Map();
    seen.clear();
    pending.clear();
    groups.length = 0;
    last = 0;
  }

  // ------------------------------------------------------------------ the API

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body) headers["Content-Type"] = "application/json";
    if (path) headers.Authorization = "Bearer " + session.token;
    const res = await fetch(API + "/api/chat/sessions" + path, {
      method, headers, body: body ? JSON.stringify(body) : undefined, credentials: "omit", cache: "no-store",
    });
    let data = null;
    try { data = await res.json(); } catch { /* empty or not JSON */ }
    return { status: res.status, data: data || {}, res };
  }
  const sessionPath = (s) => "/" + encodeURIComponent(s.id);

  function ensureSession() {
    if (session) return Promise.resolve(true);
    if (!starting) starting = startSession().finally(() => { starting = null; });
    return starting;
  }

  async function startSession() {
    const body = { flow: FLOW };
    if (cfg.source) body.source = cfg.source;
    new URLSearchParams(location.search).forEach((v, k) => {
      if (/^utm_(source|medium|campaign|term|content)$/.test(k)) body[k] = v.slice(0, 200);
    });
    let r = null;
    try { r = await api("POST", "", body); } catch { /* offline */ }
    if (!r || r.status !== 201 || !r.data.session_id) {
      notify("We couldn't start the chat just now.", ensureSession);
      return false;
    }
    session = { id: r.data.session_id, token: r.data.token, last: 0 };
    clearLog();
    hideNotice();
    renderAll(r.data.messages);
    connect();
    return true;
  }

  function drop() {
    closeStream();
    clearTimeout(syncTimer);
    session = null;
    saved.set(null);
  }

  // Catch up with the history (all of it, or what came after the last id shown), then (re)open the stream.
  async function sync() {
    clearTimeout(syncTimer);
    const s = session;
    if (!s) return;
    let r = null;
    try { r = await api("GET", sessionPath(s) + "/messages" + (seen.size ? "?after=" + last : "")); } catch { /* offline */ }
    if (s !== session) return;
    if (r && (r.status === 401 || r.status === 404)) {
      drop();
      clearLog();
      if (isOpen) ensureSession();
      return;
    }
    if (!r || r.status !== 200) return retryLater();
    renderAll(r.data.messages);
    if (!es) connect();
  }

  function retryLater() {
    closeStream();
    clearTimeout(syncTimer);
    syncTimer = setTimeout(sync, syncDelay);
    syncDelay = Math.min(syncDelay * 2, 30000);
  }

  function closeStream() {
    if (es) es.close();
    es = null;
  }

  function connect() {
    closeStream();
    if (!session || !window.EventSource) return;
    const src = new EventSource(API + "/api/chat/sessions" + sessionPath(session) + "/events?token=" +
      encodeURIComponent(session.token) + "&after=" + last);
    es = src;
    src.onopen = () => { syncDelay = 1000; };
    on(src, "message", (e) => {
      let m = null;
      try { m = JSON.parse(e.data); } catch { return; }
      const known = seen.has(m.id);
      renderAll([m]);
      if (!isOpen && !known && m.direction === "out") dot.hidden = false;
    });
    // The browser would retry by itself, but not after a 401 or with our backoff: close and resume via ?after=.
    src.onerror = () => { if (es === src) retryLater(); };
  }

  // ------------------------------------------------------------------ sending

  function sendText() {
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    autosize();
    submit({ text }, text);
  }

  function submit(body, echo, group) {
    hideNotice();
    const el = bubble({ direction: "in", author: "prospect", text: echo });
    el.classList.add("pending");
    pending.set(el, echo.trim());
    log.append(el);
    scrollDown();
    enqueue({ body, el, group, cmid: uuid() });
  }

  function enqueue(job) {
    queue = queue.then(() => deliver(job));
  }

  function giveBack(job, text) {
    pending.delete(job.el);
    job.el.remove();
    if (job.body.text && !input.value) {
      input.value = job.body.text;
      autosize();
    }
    if (job.group) {
      for (const b of job.group.querySelectorAll("button")) {
        b.disabled = false;
        b.classList.remove("on");
      }
    }
    if (text) notify(text);
  }

  const retryAfter = (res) => {
    const v = res.headers.get("Retry-After") || "";
    const s = /^\d+$/.test(v) ? +v : (Date.parse(v) - Date.now()) / 1000;
    return Math.min(Math.max(Math.ceil(s) || 3, 1), 120);
  };

  async function deliver(job) {
    busy++;
    setTyping();
    job.el.classList.remove("failed");
    try {
      if (!(await ensureSession())) return giveBack(job);
      for (let tries = 0; ; tries++) {
        const s = session;
        let r = null;
        try {
          r = await api("POST", sessionPath(s) + "/messages", { ...job.body, client_message_id: job.cmid });
        } catch { /* network: retried below with the same client_message_id */ }
        const st = r ? r.status : 0;
        const err = (r && r.data.error) || {};
        if (st === 200) {
          render(r.data.inbound, job.el);
          renderAll(r.data.messages);
          hideNotice();
          return;
        }
        if (st === 429) {
          const wait = retryAfter(r.res);
          notify("You're sending messages quickly. Sending again in " + wait + " s…");
          await sleep(wait * 1000);
          hideNotice();
          continue;
        }
        if (st === 401 || st === 404) {
          if (s === session) {
            drop();
            clearLog();
          }
          giveBack(job);
          await ensureSession();
          return notify("This chat had expired, so we started a new one. Please send your message again.");
        }
        if (st === 422 && err.code === "message_too_long") return giveBack(job, err.message || "That message is too long.");
        if (st >= 400 && st < 500) return giveBack(job, "Sorry, that message couldn't be sent. Please rephrase it.");
        if (tries < 2) {
          await sleep(700 * 2 ** tries);
          continue;
        }
        job.el.classList.add("failed");
        return notify("Your message didn't go through. Check your connection.", () => enqueue(job));
      }
    } finally {
      busy--;
      setTyping();
    }
  }

  // ------------------------------------------------------------------ open, close, reset

  function open() {
    if (!panel) return;
    if (!isOpen) {
      isOpen = true;
      panel.hidden = false;
      root.classList.add("open");
      launcher.setAttribute("aria-expanded", "true");
      dot.hidden = true;
      scrollDown();
      if (!session) ensureSession();
    }
    input.focus();
  }

  function close() {
    if (!panel || !isOpen) return;
    isOpen = false;
    panel.hidden = true;
    root.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  function reset() {
    if (!panel) return;
    drop();
    clearLog();
    hideNotice();
    if (isOpen) ensureSession();
  }

  // Another tab wrote the session: follow it (new session, or new messages to fetch).
  function onStorage(e) {
    if (e.key !== KEY) return;
    const v = saved.get();
    if (!v) {
      if (session) {
        closeStream();
        session = null;
        clearLog();
      }
      return;
    }
    if (!session || v.id !== session.id) {
      closeStream();
      session = v;
      clearLog();
      sync();
    } else if (+v.last > last) sync();
  }

  function init() {
    mount();
    on(window, "storage", onStorage);
    // Any element with data-salesbot-open is an "open the chat" button, so pages need no script of their own.
    on(document, "click", (e) => {
      const opener = e.target instanceof Element && e.target.closest("[data-salesbot-open]");
      if (opener) {
        e.preventDefault();
        open();
      }
    });
    if (session) sync();
    if (cfg.open === "true") open();
  }

  window.SalesbotWidget = Object.freeze({ open: () => open(), close: () => close(), reset: () => reset() });
  if (document.body) init();
  else on(document, "DOMContentLoaded", init);
})();
