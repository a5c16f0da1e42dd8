// Staff page: plain JS, no build step. Served under CSP default-src 'self': no inline code.
// Every message text is rendered with textContent, never as HTML: cards quote what citizens wrote.
"use strict";

(() => {
  const API = "/staff/api";
  const LAST_EVENT_PREFIX = "wz_staff_last_event:"; // per staff member: two people may share a PC
  const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000]; // then the message gets a retry button

  const TEXTS = {
    zh: {
      title: "问政工作台",
      log: "对话记录",
      loginTitle: "工作人员登录",
      loginHelp: "请粘贴管理员用 wenzheng staff token 姓名 生成的登录口令。",
      token: "登录口令",
      login: "登录",
      loggingIn: "正在登录…",
      logout: "退出登录",
      loginFailed: "登录失败，请稍后再试。",
      signedOut: "登录已失效，请重新登录。",
      placeholder: "输入指令，如：待办",
      input: "输入指令或回复",
      send: "发送",
      hint: "接单 编号 / 回复 编号 内容 / 备注 / 转办 / 延期 / 不予受理 / 办结 / 查看 / 待办",
      greeting: "已登录。新问政和提醒会显示在这里。\n发送“待办”查看本部门待办问政，发送“帮助”查看全部指令。",
      options: "选项",
      sending: "发送中…",
      retrying: "网络不稳定，正在重试…",
      failed: "未发送",
      retry: "重试",
      ticket: "问政编号",
      use: "填入",
      useLabel: "把编号填入输入框",
      notice: "通知",
      offline: "网络已断开",
      connecting: "正在连接…",
      reconnecting: "正在重新连接…",
      genericError: "发送失败，请稍后再试。",
    },
    en: {
      title: "Inquiry desk",
      log: "Conversation",
      loginTitle: "Staff sign-in",
      loginHelp: "Paste the login token an administrator created with: wenzheng staff token NAME",
      token: "Login token",
      login: "Sign in",
      loggingIn: "Signing in…",
      logout: "Sign out",
      loginFailed: "Sign-in failed. Please try again later.",
      signedOut: "You are signed out. Please sign in again.",
      placeholder: "Type a command, e.g. queue",
      input: "Type a command or a reply",
      send: "Send",
      hint: "claim N / reply N text / note / transfer / extend / reject / close / show / queue",
      greeting:
        'Signed in. New inquiries and reminders appear here.\nSend "queue" for your department\'s open inquiries, "help" for all commands.',
      options: "Options",
      sending: "Sending…",
      retrying: "Connection is unstable, retrying…",
      failed: "Not sent",
      retry: "Retry",
      ticket: "Inquiry number",
      use: "Use",
      useLabel: "Put the number into the message box",
      notice: "Notice",
      offline: "Offline",
      connecting: "Connecting…",
      reconnecting: "Reconnecting…",
      genericError: "The message could not be sent. Please try again later.",
    },
  };

  const lang = /^zh/i.test(navigator.language || "zh") ? "zh" : "en";
  const t = TEXTS[lang];

  const $ = (id) => document.getElementById(id);
  const loginView = $("login-view");
  const loginForm = $("login-form");
  const tokenInput = $("token");
  const loginError = $("login-error");
  const loginBtn = $("login-btn");
  const logoutBtn = $("logout-btn");
  const log = $("log");
  const hint = $("hint");
  const form = $("composer");
  const input = $("text");
  const conn = $("conn");

  // --- small helpers ----------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function newId() {
    try {
      if (typeof crypto.randomUUID === "function") return crypto.randomUUID(); // secure contexts only
    } catch (_) {
      /* fall through */
    }
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function append(node) {
    log.appendChild(node);
    scrollToEnd();
    requestAnimationFrame(scrollToEnd);
    return node;
  }

  async function messageFrom(res, fallback) {
    try {
      const body = await res.json();
      if (body && body.message && body.message[lang]) return body.message[lang];
    } catch (_) {
      /* not JSON */
    }
    return fallback;
  }

  function applyLabels() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.title = t.title;
    $("title").textContent = t.title;
    $("login-title").textContent = t.loginTitle;
    $("login-help").textContent = t.loginHelp;
    $("token-label").textContent = t.token;
    loginBtn.textContent = t.login;
    logoutBtn.textContent = t.logout;
    log.setAttribute("aria-label", t.log);
    hint.textContent = t.hint;
    input.placeholder = t.placeholder;
    $("text-label").textContent = t.input;
    $("send-btn").textContent = t.send;
  }

  // --- rendering --------------------------------------------------------------------------------

  function botBubble(text, extraClass) {
    const wrap = el("div", "msg bot" + (extraClass ? " " + extraClass : ""));
    const bubble = el("div", "bubble", text);
    bubble.dir = "auto";
    wrap.appendChild(bubble);
    return wrap;
  }

  function notice(text) {
    append(botBubble(text, "notice"));
  }

  // Commands quote the number: one tap puts it where the cursor is instead of retyping it.
  function ticketChip(number) {
    const chip = el("div", "ticket");
    chip.setAttribute("role", "group");
    chip.setAttribute("aria-label", t.ticket);
    const no = el("span", "ticket-no", number);
    no.dir = "ltr";
    chip.appendChild(no);
    const use = el("button", "linkish", t.use);
    use.type = "button";
    use.setAttribute("aria-label", `${t.useLabel}: ${number}`);
    use.addEventListener("click", () => insertIntoInput(number));
    chip.appendChild(use);
    return chip;
  }

  function insertIntoInput(number) {
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    const before = input.value.slice(0, start);
    const spaced = (before && !/\s$/.test(before) ? " " : "") + number + " ";
    input.setRangeText(spaced, start, end, "end");
    fitInput();
    input.focus();
  }

  // Cards arrive one after another, each with its own buttons: only the tapped group is retired.
  function choiceGroup(choices) {
    const group = el("div", "choices");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", t.options);
    let used = false;
    for (const choice of choices) {
      const button = el("button", "choice", choice.label);
      button.type = "button";
      button.dir = "auto";
      button.addEventListener("click", () => {
        if (used) return; // a double tap sends once
        used = true;
        group.dataset.used = "true";
        for (const other of group.querySelectorAll("button")) other.disabled = true;
        button.setAttribute("aria-pressed", "true");
        sendChoice({ id: String(choice.id), label: String(choice.label) });
      });
      group.appendChild(button);
    }
    return group;
  }

  function renderReply(reply) {
    if (!reply || typeof reply.text !== "string") return;
    const purpose = reply.purpose || "reply";
    const wrap = botBubble(reply.text, purpose === "reply" ? "" : "status");
    if (purpose !== "reply") wrap.insertBefore(el("div", "kind", t.notice), wrap.firstChild);
    if (reply.ticket_number) wrap.appendChild(ticketChip(String(reply.ticket_number)));
    const choices = Array.isArray(reply.choices) ? reply.choices.filter((c) => c && c.id != null) : [];
    if (choices.length) wrap.appendChild(choiceGroup(choices));
    append(wrap);
  }

  function mine(text) {
    const wrap = el("div", "msg me");
    const bubble = el("div", "bubble", text);
    bubble.dir = "auto";
    wrap.appendChild(bubble);
    const meta = el("div", "meta");
    meta.hidden = true;
    wrap.appendChild(meta);
    append(wrap);
    let slow = null;
    return {
      setState(state, onRetry) {
        clearTimeout(slow);
        meta.className = "meta";
        meta.replaceChildren();
        meta.hidden = true;
        if (state === "sending") {
          slow = setTimeout(() => {
            meta.textContent = t.sending;
            meta.hidden = false;
          }, 700);
        } else if (state === "retrying") {
          meta.textContent = t.retrying;
          meta.hidden = false;
        } else if (state === "failed") {
          meta.className = "meta error";
          meta.appendChild(el("span", "", t.failed));
          if (onRetry) {
            const again = el("button", "linkish", t.retry);
            again.type = "button";
            again.addEventListener("click", onRetry, { once: true });
            meta.appendChild(again);
          }
          meta.hidden = false;
        }
      },
    };
  }

  // --- views ------------------------------------------------------------------------------------

  let staffId = null;
  let generation = 0; // bumped on sign-out: work begun for the previous session is dropped

  function showLogin(message) {
    generation++;
    staffId = null;
    stopEvents();
    log.replaceChildren();
    log.hidden = true;
    hint.hidden = true;
    form.hidden = true;
    logoutBtn.hidden = true;
    loginView.hidden = false;
    loginError.textContent = message || "";
    loginError.hidden = !message;
    loginBtn.disabled = false;
    showConnection();
    tokenInput.focus();
  }

  function showChat(id) {
    staffId = id;
    loginView.hidden = true;
    tokenInput.value = "";
    log.hidden = false;
    hint.hidden = false;
    form.hidden = false;
    logoutBtn.hidden = false;
    if (!log.firstChild) append(botBubble(t.greeting));
    lastEvent = readLastEvent();
    connectEvents();
    input.focus();
  }

  // Which view to show: the cookie is HttpOnly, so only the server can say whether it still works.
  async function checkSession() {
    for (let attempt = 0; ; attempt++) {
      let res = null;
      try {
        res = await fetch(API + "/session", { credentials: "same-origin", cache: "no-store" });
      } catch (_) {
        res = null;
      }
      if (res && res.ok) {
        const body = await res.json().catch(() => null);
        if (body && Number.isFinite(body.staff_id)) return body.staff_id;
        res = null;
      }
      if (res && res.status !== 503) return null;
      conn.textContent = t.connecting;
      conn.hidden = false;
      await sleep(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] * (0.8 + Math.random() * 0.4));
    }
  }

  async function start() {
    const id = await checkSession();
    showConnection();
    if (id === null) showLogin("");
    else showChat(id);
  }

  loginForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = tokenInput.value.trim();
    if (!token || loginBtn.disabled) return;
    loginBtn.disabled = true;
    loginError.hidden = true;
    conn.textContent = t.loggingIn;
    conn.hidden = false;
    let message = t.loginFailed;
    try {
      const res = await fetch(API + "/login", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token }),
      });
      if (res.ok) {
        const body = await res.json().catch(() => null);
        if (body && Number.isFinite(body.staff_id)) {
          showConnection();
          showChat(body.staff_id);
          return;
        }
      } else {
        message = await messageFrom(res, t.loginFailed);
      }
    } catch (_) {
      /* network: the generic message */
    }
    showConnection();
    loginBtn.disabled = false;
    loginError.textContent = message;
    loginError.hidden = false;
  });

  logoutBtn.addEventListener("click", () => {
    logoutBtn.disabled = true;
    fetch(API + "/logout", { method: "POST", credentials: "same-origin" })
      .catch(() => {})
      .finally(() => {
        logoutBtn.disabled = false;
        showLogin("");
      });
  });

  // --- delivery ---------------------------------------------------------------------------------

  class SendFailure extends Error {
    constructor(message, retryable, signedOut) {
      super(message);
      this.retryable = retryable;
      this.signedOut = signedOut;
    }
  }

  // One message, delivered with its own id until the server has it: a 503 or a broken connection
  // is retried with the same body, so the server files it once however often it arrives.
  async function deliver(item) {
    for (let attempt = 0; ; attempt++) {
      if (item.generation !== generation) throw new SendFailure(t.signedOut, false, true);
      let res = null;
      try {
        res = await fetch(API + "/messages", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: item.body,
        });
      } catch (_) {
        res = null;
      }
      if (res && res.ok) {
        try {
          return await res.json();
        } catch (_) {
          res = null; // cut off mid-answer: ask again, the server answers from its records
        }
      }
      if (res && res.status === 401) throw new SendFailure(await messageFrom(res, t.signedOut), false, true);
      if (res && res.status !== 503) throw new SendFailure(await messageFrom(res, t.genericError), false, false);
      if (attempt >= BACKOFF_MS.length) throw new SendFailure(t.genericError, true, false);
      item.view.setState("retrying");
      await sleep(BACKOFF_MS[attempt] * (0.8 + Math.random() * 0.4));
    }
  }

  let queue = Promise.resolve(); // messages reach the bot in the order they were typed

  function enqueue(item) {
    item.view.setState("sending");
    const run = queue.then(() => deliver(item));
    queue = run.then(
      (data) => {
        item.view.setState("sent");
        if (item.generation !== generation) return;
        for (const reply of (data && data.replies) || []) renderReply(reply);
      },
      (err) => {
        if (err instanceof SendFailure && err.signedOut) {
          if (item.generation === generation) showLogin(err.message);
          return;
        }
        const retryable = !(err instanceof SendFailure) || err.retryable;
        item.view.setState("failed", retryable ? () => enqueue(item) : null);
        if (!retryable) notice(err.message);
      },
    );
  }

  function sendJson(body, view) {
    const payload = JSON.stringify({ id: newId(), ...body });
    enqueue({ body: payload, view, generation });
  }

  function sendText(text) {
    sendJson({ text }, mine(text));
  }

  function sendChoice(choice) {
    sendJson({ choice }, mine(choice.label));
  }

  // --- pushed messages (new-ticket cards, reminders) --------------------------------------------

  let lastEvent = 0;
  let events = null;
  let eventsDown = false;
  let reconnectDelay = 2000;
  let reconnectTimer = null;

  function lastEventKey() {
    return LAST_EVENT_PREFIX + staffId;
  }

  function readLastEvent() {
    try {
      return parseInt(localStorage.getItem(lastEventKey()) || "0", 10) || 0;
    } catch (_) {
      return 0; // storage disabled
    }
  }

  function showConnection() {
    const text = !navigator.onLine ? t.offline : eventsDown && staffId !== null ? t.reconnecting : "";
    conn.textContent = text;
    conn.hidden = !text;
  }

  function stopEvents() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (events) events.close();
    events = null;
    eventsDown = false;
  }

  function connectEvents() {
    stopEvents();
    const gen = generation;
    const source = new EventSource(`${API}/events?after=${lastEvent}`);
    events = source;
    source.addEventListener("open", () => {
      eventsDown = false;
      reconnectDelay = 2000;
      showConnection();
    });
    source.addEventListener("message", (ev) => {
      if (gen !== generation) return;
      const id = parseInt(ev.lastEventId, 10);
      if (Number.isFinite(id)) {
        if (id <= lastEvent) return;
        lastEvent = id;
        try {
          localStorage.setItem(lastEventKey(), String(id));
        } catch (_) {
          /* storage disabled */
        }
      }
      try {
        renderReply(JSON.parse(ev.data));
      } catch (_) {
        /* not a message */
      }
    });
    source.addEventListener("error", () => {
      if (gen !== generation) return;
      eventsDown = true;
      showConnection();
      if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
      // Refused: the token may have been revoked. Ask the server, then reconnect or sign out.
      source.close();
      const delay = reconnectDelay;
      reconnectDelay = Math.min(reconnectDelay * 2, 60000);
      reconnectTimer = setTimeout(async () => {
        const id = await checkSession();
        if (gen !== generation) return;
        if (id === null || id !== staffId) showLogin(t.signedOut);
        else connectEvents();
      }, delay);
    });
  }

  // --- wiring -----------------------------------------------------------------------------------

  function fitInput() {
    input.rows = Math.min(5, Math.max(1, input.value.split("\n").length));
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text || staffId === null) return;
    input.value = "";
    fitInput();
    sendText(text);
  });

  input.addEventListener("keydown", (ev) => {
    // Enter sends, Shift+Enter is a new line; Enter that confirms an IME candidate (pinyin) does not send.
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", fitInput);

  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);

  applyLabels();
  start();
})();
