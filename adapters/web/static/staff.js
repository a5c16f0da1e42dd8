// Staff page: plain JS, no build step. Served under CSP default-src 'self': no inline code.
// Every message text is rendered with textContent, never as HTML: cards quote what citizens wrote.
// What the citizen page shares (rendering, buttons, delivery with retries, the event stream) is in
// chatcore.js.
"use strict";

(() => {
  const { $, el, button, backoff, messageFrom } = window.WZChat;
  const API = "/staff/api";
  const LAST_EVENT_PREFIX = "wz_staff_last_event:"; // per staff member: two people may share a PC

  const ui = window.WZChat.page({
    zh: {
      title: "问政工作台",
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
      hint: "接单 编号 / 回复 编号 内容 / 备注 / 转办 / 延期 / 不予受理 / 办结 / 查看 / 待办",
      greeting: "已登录。新问政和提醒会显示在这里。\n发送“待办”查看本部门待办问政，发送“帮助”查看全部指令。",
      use: "填入",
      useLabel: "把编号填入输入框",
      notice: "通知",
      connecting: "正在连接…",
    },
    en: {
      title: "Inquiry desk",
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
      hint: "claim N / reply N text / note / transfer / extend / reject / close / show / queue",
      greeting:
        'Signed in. New inquiries and reminders appear here.\nSend "queue" for your department\'s open inquiries, "help" for all commands.',
      use: "Use",
      useLabel: "Put the number into the message box",
      notice: "Notice",
      connecting: "Connecting…",
    },
  });
  const { t, log, form, input } = ui;

  const loginView = $("login-view");
  const loginForm = $("login-form");
  const tokenInput = $("token");
  const loginError = $("login-error");
  const loginBtn = $("login-btn");
  const logoutBtn = $("logout-btn");
  const hint = $("hint");

  function applyLabels() {
    ui.applyLabels();
    $("login-title").textContent = t.loginTitle;
    $("login-help").textContent = t.loginHelp;
    $("token-label").textContent = t.token;
    loginBtn.textContent = t.login;
    logoutBtn.textContent = t.logout;
    hint.textContent = t.hint;
  }

  // --- rendering --------------------------------------------------------------------------------

  // Commands quote the number: one tap puts it where the cursor is instead of retyping it.
  function ticketChip(number) {
    const chip = ui.ticketChip(number);
    const use = button("linkish", t.use);
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
    ui.fitInput();
    input.focus();
  }

  function renderReply(reply) {
    if (!reply || typeof reply.text !== "string") return;
    const purpose = reply.purpose || "reply";
    const wrap = ui.botBubble(reply.text, purpose === "reply" ? "" : "status");
    if (purpose !== "reply") wrap.insertBefore(el("div", "kind", t.notice), wrap.firstChild);
    if (reply.ticket_number) wrap.appendChild(ticketChip(String(reply.ticket_number)));
    const choices = Array.isArray(reply.choices) ? reply.choices.filter((c) => c && c.id != null) : [];
    // Cards arrive one after another, each with its own buttons: only the tapped group is retired.
    const choose = (c) => sendChoice({ id: String(c.id), label: String(c.label) });
    if (choices.length) wrap.appendChild(ui.choiceGroup(choices, choose));
    ui.append(wrap);
  }

  // --- views ------------------------------------------------------------------------------------

  let staffId = null;
  let generation = 0; // bumped on sign-out: work begun for the previous session is dropped

  function showLogin(message) {
    generation++;
    staffId = null;
    events.stop();
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
    if (!log.firstChild) ui.append(ui.botBubble(t.greeting));
    events.start();
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
      ui.setStatus(t.connecting);
      await backoff(attempt);
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
    ui.setStatus(t.loggingIn);
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

  const out = window.WZChat.sender(ui, {
    api: API,
    render: renderReply,
    signedOut: (message) => showLogin(message),
    generation: () => generation,
  });

  function sendText(text) {
    out.sendJson({ text }, ui.mine(text));
  }

  function sendChoice(choice) {
    out.sendJson({ choice }, ui.mine(choice.label));
  }

  // --- pushed messages (new-ticket cards, reminders) --------------------------------------------

  const events = window.WZChat.eventStream({
    api: API,
    key: () => LAST_EVENT_PREFIX + staffId,
    render: renderReply,
    changed: () => showConnection(),
    // Refused: the token may have been revoked. Ask the server, then reconnect or sign out.
    refused: async () => {
      const id = await checkSession();
      return id !== null && id === staffId;
    },
    lost: () => showLogin(t.signedOut),
  });

  function showConnection() {
    ui.showConnection(events.down && staffId !== null);
  }

  // --- wiring -----------------------------------------------------------------------------------

  ui.composer(sendText, () => staffId !== null);

  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);

  applyLabels();
  start();
})();
