// What the citizen page (chat.js) and the staff page (staff.js) share: plain JS, no build step,
// loaded before either page script as a classic script that defines one name, window.WZChat.
// Served under CSP default-src 'self': no inline code. Every message text is rendered with
// textContent, never as HTML.
"use strict";

window.WZChat = (() => {
  const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000]; // then the message gets a retry button

  // The words both pages use; each page adds its own (and may override these).
  const COMMON_TEXTS = {
    zh: {
      log: "对话记录",
      send: "发送",
      options: "选项",
      sending: "发送中…",
      retrying: "网络不稳定，正在重试…",
      failed: "未发送",
      retry: "重试",
      ticket: "问政编号",
      offline: "网络已断开",
      reconnecting: "正在重新连接…",
      genericError: "发送失败，请稍后再试。",
    },
    en: {
      log: "Conversation",
      send: "Send",
      options: "Options",
      sending: "Sending…",
      retrying: "Connection is unstable, retrying…",
      failed: "Not sent",
      retry: "Retry",
      ticket: "Inquiry number",
      offline: "Offline",
      reconnecting: "Reconnecting…",
      genericError: "The message could not be sent. Please try again later.",
    },
  };

  const lang = /^zh/i.test(navigator.language || "zh") ? "zh" : "en";

  // --- small helpers ----------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(className, text) {
    const node = el("button", className, text);
    node.type = "button";
    return node;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // The pause before try number attempt + 1, with some jitter so that many pages do not retry at once.
  function backoff(attempt) {
    return sleep(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] * (0.8 + Math.random() * 0.4));
  }

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

  // The server's error shape: {"error": code, "message": {"zh": …, "en": …}}.
  async function messageFrom(res, fallback) {
    try {
      const body = await res.json();
      if (body && body.message && body.message[lang]) return body.message[lang];
    } catch (_) {
      /* not JSON */
    }
    return fallback;
  }

  function readNumber(key) {
    try {
      return parseInt(localStorage.getItem(key) || "0", 10) || 0;
    } catch (_) {
      return 0; // storage disabled
    }
  }

  function storeNumber(key, value) {
    try {
      localStorage.setItem(key, String(value));
    } catch (_) {
      /* storage disabled */
    }
  }

  class SendFailure extends Error {
    constructor(message, retryable, signedOut = false) {
      super(message);
      this.retryable = retryable;
      this.signedOut = signedOut;
    }
  }

  // --- the page ---------------------------------------------------------------------------------

  // The parts both pages have: the log (#log), the status line (#conn) and the composer
  // (#composer, #text, #text-label, #send-btn), with the texts picked for the browser's language.
  function page(texts) {
    const t = { ...COMMON_TEXTS[lang], ...texts[lang] };
    const log = $("log");
    const form = $("composer");
    const input = $("text");
    const conn = $("conn");

    function applyLabels() {
      document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
      document.title = t.title;
      $("title").textContent = t.title;
      log.setAttribute("aria-label", t.log);
      input.placeholder = t.placeholder;
      $("text-label").textContent = t.input;
      $("send-btn").textContent = t.send;
    }

    function setStatus(text) {
      conn.textContent = text;
      conn.hidden = !text;
    }

    function showConnection(down) {
      setStatus(!navigator.onLine ? t.offline : down ? t.reconnecting : "");
    }

    function scrollToEnd() {
      log.scrollTop = log.scrollHeight;
    }

    function append(node) {
      log.appendChild(node);
      scrollToEnd();
      // Images and fonts can grow a bubble after layout: follow them once more.
      requestAnimationFrame(scrollToEnd);
      return node;
    }

    // --- rendering ------------------------------------------------------------------------------

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

    // The number, left to right whatever the page's direction; each page adds its own button.
    function ticketChip(number) {
      const chip = el("div", "ticket");
      chip.setAttribute("role", "group");
      chip.setAttribute("aria-label", t.ticket);
      const no = el("span", "ticket-no", number);
      no.dir = "ltr";
      chip.appendChild(no);
      return chip;
    }

    function retireGroup(group) {
      group.dataset.used = "true";
      for (const each of group.querySelectorAll("button")) each.disabled = true;
    }

    // A reply's buttons: the first tap disables the whole group, so a double tap sends once.
    // group.retire() disables it without a tap; purpose, if given, becomes data-purpose.
    function choiceGroup(choices, choose, purpose) {
      const group = el("div", "choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", t.options);
      if (purpose) group.dataset.purpose = purpose;
      let used = false;
      for (const choice of choices) {
        const choiceBtn = button("choice", choice.label);
        choiceBtn.dir = "auto";
        choiceBtn.addEventListener("click", () => {
          if (used) return; // a double tap sends once
          used = true;
          retireGroup(group);
          choiceBtn.setAttribute("aria-pressed", "true");
          choose(choice);
        });
        group.appendChild(choiceBtn);
      }
      group.retire = () => {
        used = true;
        retireGroup(group);
      };
      return group;
    }

    // One's own message: its bubble and a line under it saying how the delivery goes. content is
    // the text, or a function that fills the bubble (a photo).
    function mine(content) {
      const wrap = el("div", "msg me");
      const bubble = el("div", "bubble");
      bubble.dir = "auto";
      if (typeof content === "function") content(bubble);
      else bubble.textContent = content;
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
              const again = button("linkish", t.retry);
              again.addEventListener("click", onRetry, { once: true });
              meta.appendChild(again);
            }
            meta.hidden = false;
          }
        },
      };
    }

    // --- the composer ---------------------------------------------------------------------------

    function fitInput() {
      input.rows = Math.min(5, Math.max(1, input.value.split("\n").length));
    }

    // send(text) gets each typed message; ready() (optional) can refuse to take one yet.
    function composer(send, ready) {
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const text = input.value.trim();
        if (!text || (ready && !ready())) return;
        input.value = "";
        fitInput();
        send(text);
      });
      input.addEventListener("keydown", (ev) => {
        // Enter sends, Shift+Enter is a new line; Enter that confirms an IME candidate (pinyin) does not send.
        if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
          ev.preventDefault();
          form.requestSubmit();
        }
      });
      input.addEventListener("input", fitInput);
    }

    return {
      t,
      log,
      form,
      input,
      conn,
      applyLabels,
      setStatus,
      showConnection,
      scrollToEnd,
      append,
      botBubble,
      notice,
      ticketChip,
      choiceGroup,
      mine,
      fitInput,
      composer,
    };
  }

  // --- delivery ---------------------------------------------------------------------------------

  // Messages reach the server one at a time, in the order they were sent, each with its own id
  // until the server has it: a 503 or a broken connection is retried with the same id, so the
  // server files it once however often it arrives. options:
  //   api             "/chat/api" or "/staff/api"
  //   render(reply)   shows one reply
  //   ready()         optional, awaited before each try (the citizen's session); failing counts as a broken connection
  //   renew()         optional: on the first 401 of a message, awaited and the message sent again at once
  //   signedOut(msg)  optional: a 401 means the sign-in is gone; called with the server's message
  //   generation()    optional: messages begun in an older generation (before a sign-out) are dropped
  function sender(ui, options) {
    const t = ui.t;
    const generation = options.generation || (() => 0);

    async function deliver(item) {
      let renewed = false;
      for (let attempt = 0; ; attempt++) {
        if (item.generation !== generation()) throw new SendFailure(t.signedOut, false, true);
        let res = null;
        try {
          if (options.ready) await options.ready();
          res = await fetch(options.api + item.path, { method: "POST", credentials: "same-origin", ...item.request() });
        } catch (_) {
          res = null;
        }
        if (res && res.status === 401 && options.renew && !renewed) {
          renewed = true;
          attempt--;
          await options.renew().catch(() => {});
          continue;
        }
        if (res && res.ok) {
          try {
            return await res.json();
          } catch (_) {
            res = null; // cut off mid-answer: ask again, the server answers from its records
          }
        }
        if (res && res.status === 401 && options.signedOut) {
          throw new SendFailure(await messageFrom(res, t.signedOut), false, true);
        }
        if (res && res.status !== 503) throw new SendFailure(await messageFrom(res, t.genericError), false);
        if (attempt >= BACKOFF_MS.length) throw new SendFailure(t.genericError, true);
        item.view.setState("retrying");
        await backoff(attempt);
      }
    }

    let queue = Promise.resolve();

    function enqueue(item) {
      item.view.setState("sending");
      const run = queue.then(() => deliver(item));
      queue = run.then(
        (data) => {
          item.view.setState("sent");
          if (item.generation !== generation()) return;
          for (const reply of (data && data.replies) || []) options.render(reply);
        },
        (err) => {
          if (err instanceof SendFailure && err.signedOut) {
            if (item.generation === generation()) options.signedOut(err.message);
            return;
          }
          const retryable = !(err instanceof SendFailure) || err.retryable;
          item.view.setState("failed", retryable ? () => enqueue(item) : null);
          if (!retryable) ui.notice(err.message);
        },
      );
    }

    // request() builds the fetch options (body, headers) anew for every try.
    function send(path, view, request) {
      enqueue({ path, view, request, generation: generation() });
    }

    function sendJson(body, view) {
      const payload = JSON.stringify({ id: newId(), ...body });
      send("/messages", view, () => ({ headers: { "Content-Type": "application/json" }, body: payload }));
    }

    return { send, sendJson };
  }

  // --- pushed messages --------------------------------------------------------------------------

  // The server's event stream, resumed after the last event id seen, which is kept in localStorage
  // so that neither a reconnect nor a reload shows a push twice. options:
  //   api, key()       the stream is at api + "/events"; key() names the stored id
  //   render(reply)    shows one pushed message
  //   changed()        the connection went down or came back (see .down)
  //   refused()        the server closed the stream: after a growing pause, resolves true to reconnect
  //   lost()           optional: refused() resolved false
  function eventStream(options) {
    let lastEvent = 0;
    let source = null;
    let down = false;
    let delay = 2000;
    let timer = null;
    let run = 0; // bumped by stop(): what was begun for an earlier run is dropped

    function stop() {
      run++;
      clearTimeout(timer);
      timer = null;
      if (source) source.close();
      source = null;
      down = false;
    }

    function open() {
      const es = new EventSource(`${options.api}/events?after=${lastEvent}`);
      source = es;
      es.addEventListener("open", () => {
        if (es !== source) return;
        down = false;
        delay = 2000;
        options.changed();
      });
      es.addEventListener("message", (ev) => {
        if (es !== source) return;
        const id = parseInt(ev.lastEventId, 10);
        if (Number.isFinite(id)) {
          if (id <= lastEvent) return;
          lastEvent = id;
          storeNumber(options.key(), id);
        }
        try {
          options.render(JSON.parse(ev.data));
        } catch (_) {
          /* not a message */
        }
      });
      es.addEventListener("error", () => {
        if (es !== source) return;
        down = true;
        options.changed();
        if (es.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
        es.close();
        const wait = delay;
        delay = Math.min(delay * 2, 60000);
        const current = run;
        timer = setTimeout(async () => {
          const again = await options.refused();
          if (current !== run) return;
          if (again) open();
          else if (options.lost) options.lost();
        }, wait);
      });
    }

    function start() {
      stop();
      lastEvent = readNumber(options.key());
      open();
    }

    return {
      start,
      stop,
      get down() {
        return down;
      },
    };
  }

  return Object.freeze({ lang, $, el, button, sleep, backoff, newId, messageFrom, SendFailure, page, sender, eventStream });
})();
