// Web chat page: plain JS, no build step. Served under CSP default-src 'self': no inline code.
// Every message text is rendered with textContent, never as HTML.
"use strict";

(() => {
  const API = "/chat/api";
  const LAST_EVENT_KEY = "wz_chat_last_event";
  const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000]; // then the citizen gets a retry button
  const MAX_SIDE = 1600; // photos are downscaled to this many pixels on the long side
  const KEEP_AS_IS_BYTES = 1024 * 1024;
  const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

  const TEXTS = {
    zh: {
      title: "网上问政",
      log: "对话记录",
      placeholder: "请描述您的问题…",
      input: "输入您的问题",
      send: "发送",
      location: "位置",
      locationTitle: "发送我的位置",
      photo: "照片",
      photoTitle: "发送照片",
      greeting:
        "您好！这里是网上问政平台。\n请直接描述您要反映的问题：在哪里、发生了什么、持续多久。也可以发送位置和照片。\n发送“帮助”查看更多用法。",
      options: "选项",
      sending: "发送中…",
      retrying: "网络不稳定，正在重试…",
      failed: "未发送",
      retry: "重试",
      myLocation: "我的位置：",
      locating: "正在获取位置…",
      locationDenied: "无法获取您的位置（未获授权）。请直接输入详细地址，如：市南区香港中路8号。",
      locationUnavailable: "暂时无法获取您的位置。请直接输入详细地址，如：市南区香港中路8号。",
      photoAlt: "您发送的照片",
      attachment: "附件：",
      photoTooLarge: "照片太大了（上限5MB），请换一张较小的照片。",
      ticket: "问政编号",
      copy: "复制",
      copied: "已复制",
      status: "办理进度",
      rating: "服务评价",
      offline: "网络已断开",
      reconnecting: "正在重新连接…",
      genericError: "发送失败，请稍后再试。",
    },
    en: {
      title: "Online inquiries",
      log: "Conversation",
      placeholder: "Your issue…",
      input: "Type your message",
      send: "Send",
      location: "Place",
      locationTitle: "Share my location",
      photo: "Photo",
      photoTitle: "Send a photo",
      greeting:
        'Hello! This is the government inquiry service.\nDescribe your issue: where it is, what happened and for how long. You can also send your location and photos.\nSend "help" to see what else you can do.',
      options: "Options",
      sending: "Sending…",
      retrying: "Connection is unstable, retrying…",
      failed: "Not sent",
      retry: "Retry",
      myLocation: "My location: ",
      locating: "Getting your location…",
      locationDenied:
        "We could not get your location (permission denied). Please type the full address, e.g. 8 Xianggang Middle Rd, Shinan District.",
      locationUnavailable:
        "Your location is not available right now. Please type the full address, e.g. 8 Xianggang Middle Rd, Shinan District.",
      photoAlt: "Your photo",
      attachment: "Attachment: ",
      photoTooLarge: "That photo is too large (5 MB at most). Please choose a smaller one.",
      ticket: "Inquiry number",
      copy: "Copy",
      copied: "Copied",
      status: "Progress update",
      rating: "Your rating",
      offline: "Offline",
      reconnecting: "Reconnecting…",
      genericError: "The message could not be sent. Please try again later.",
    },
  };

  const lang = /^zh/i.test(navigator.language || "zh") ? "zh" : "en";
  const t = TEXTS[lang];

  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const form = $("composer");
  const input = $("text");
  const locBtn = $("loc-btn");
  const photoBtn = $("photo-btn");
  const photoInput = $("photo-input");
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
    // Images and fonts can grow a bubble after layout: follow them once more.
    requestAnimationFrame(scrollToEnd);
    return node;
  }

  function applyLabels() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.title = t.title;
    $("title").textContent = t.title;
    log.setAttribute("aria-label", t.log);
    input.placeholder = t.placeholder;
    $("text-label").textContent = t.input;
    $("send-btn").textContent = t.send;
    $("loc-label").textContent = t.location;
    $("photo-label").textContent = t.photo;
    for (const [button, title] of [
      [locBtn, t.locationTitle],
      [photoBtn, t.photoTitle],
    ]) {
      button.title = title;
      button.setAttribute("aria-label", title);
    }
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

  function ticketChip(number) {
    const chip = el("div", "ticket");
    chip.setAttribute("role", "group");
    chip.setAttribute("aria-label", t.ticket);
    const no = el("span", "ticket-no", number);
    no.dir = "ltr";
    chip.appendChild(no);
    if (navigator.clipboard && window.isSecureContext) {
      const copy = el("button", "linkish", t.copy);
      copy.type = "button";
      copy.setAttribute("aria-label", `${t.copy} ${t.ticket}`);
      copy.addEventListener("click", () => {
        navigator.clipboard.writeText(number).then(
          () => {
            copy.textContent = t.copied;
            copy.setAttribute("aria-label", t.copied);
          },
          () => {},
        );
      });
      chip.appendChild(copy);
    }
    return chip;
  }

  function choiceGroup(choices, purpose) {
    const group = el("div", "choices");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", t.options);
    group.dataset.purpose = purpose;
    let used = false;
    for (const choice of choices) {
      const button = el("button", "choice", choice.label);
      button.type = "button";
      button.dir = "auto";
      button.addEventListener("click", () => {
        if (used) return; // a double tap sends once
        used = true;
        retireGroup(group);
        button.setAttribute("aria-pressed", "true");
        sendChoice({ id: choice.id, label: choice.label });
      });
      group.appendChild(button);
    }
    group.retire = () => {
      used = true;
      retireGroup(group);
    };
    return group;
  }

  function retireGroup(group) {
    group.dataset.used = "true";
    for (const button of group.querySelectorAll("button")) button.disabled = true;
  }

  function renderReply(reply) {
    if (!reply || typeof reply.text !== "string") return;
    const purpose = reply.purpose || "reply";
    const wrap = botBubble(reply.text, purpose === "reply" ? "" : purpose);
    if (purpose === "status" || purpose === "rating") {
      wrap.insertBefore(el("div", "kind", purpose === "status" ? t.status : t.rating), wrap.firstChild);
    }
    // The number is offered for copying where it is given out, not on every later update.
    if (reply.ticket_number && purpose === "reply") wrap.appendChild(ticketChip(String(reply.ticket_number)));
    const choices = Array.isArray(reply.choices) ? reply.choices : [];
    if (choices.length && purpose === "reply") {
      // A new question makes the unused buttons of the previous ones stale.
      for (const old of log.querySelectorAll('.choices[data-purpose="reply"]:not([data-used])')) old.retire();
    }
    if (choices.length || reply.request_location) {
      const group = choiceGroup(choices, purpose);
      if (reply.request_location) {
        const share = el("button", "choice primary", t.locationTitle);
        share.type = "button";
        share.addEventListener("click", shareLocation);
        group.appendChild(share);
      }
      wrap.appendChild(group);
    }
    if (purpose === "reply") locBtn.classList.toggle("prominent", Boolean(reply.request_location));
    append(wrap);
  }

  // A citizen's message: its bubble and a line under it saying how the delivery goes.
  function mine(content) {
    const wrap = el("div", "msg me");
    const bubble = el("div", "bubble");
    bubble.dir = "auto";
    if (content.image) {
      bubble.classList.add("has-photo");
      const img = el("img", "photo");
      img.alt = t.photoAlt;
      img.src = content.image;
      img.addEventListener("load", scrollToEnd);
      bubble.appendChild(img);
    } else {
      bubble.textContent = content.text;
    }
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

  // --- delivery ---------------------------------------------------------------------------------

  let session = null;

  function ensureSession(renew) {
    if (!session || renew) {
      session = fetch(API + "/session", { method: "POST", credentials: "same-origin" }).then((res) => {
        if (!res.ok) throw new Error("session " + res.status);
      });
      session.catch(() => {
        session = null;
      });
    }
    return session;
  }

  class SendFailure extends Error {
    constructor(message, retryable) {
      super(message);
      this.retryable = retryable;
    }
  }

  async function failureFrom(res) {
    try {
      const body = await res.json();
      if (body && body.message && body.message[lang]) return new SendFailure(body.message[lang], false);
    } catch (_) {
      /* not JSON */
    }
    return new SendFailure(t.genericError, false);
  }

  // One message, delivered with its own id until the server has it: a 503 or a broken connection
  // is retried with the same id, so the server files it once however often it arrives.
  async function deliver(item) {
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      let res = null;
      try {
        await ensureSession();
        res = await fetch(API + item.path, { method: "POST", credentials: "same-origin", ...item.request() });
      } catch (_) {
        res = null;
      }
      if (res && res.status === 401 && !renewed) {
        renewed = true;
        attempt--;
        await ensureSession(true).catch(() => {});
        continue;
      }
      if (res && res.ok) {
        try {
          return await res.json();
        } catch (_) {
          res = null; // cut off mid-answer: ask again, the server answers from its records
        }
      }
      if (res && res.status !== 503) throw await failureFrom(res);
      if (attempt >= BACKOFF_MS.length) throw new SendFailure(t.genericError, true);
      item.view.setState("retrying");
      await sleep(BACKOFF_MS[attempt] * (0.8 + Math.random() * 0.4));
    }
  }

  let queue = Promise.resolve(); // messages reach the dialog in the order they were sent

  function enqueue(item) {
    item.view.setState("sending");
    const run = queue.then(() => deliver(item));
    queue = run.then(
      (data) => {
        item.view.setState("sent");
        for (const reply of (data && data.replies) || []) renderReply(reply);
      },
      (err) => {
        const retryable = !(err instanceof SendFailure) || err.retryable;
        item.view.setState("failed", retryable ? () => enqueue(item) : null);
        if (!retryable) notice(err.message);
      },
    );
  }

  function sendJson(body, view) {
    const id = newId();
    const payload = JSON.stringify({ id, ...body });
    enqueue({
      path: "/messages",
      view,
      request: () => ({ headers: { "Content-Type": "application/json" }, body: payload }),
    });
  }

  function sendText(text) {
    sendJson({ text }, mine({ text }));
  }

  function sendChoice(choice) {
    sendJson({ choice }, mine({ text: choice.label }));
  }

  // --- location ---------------------------------------------------------------------------------

  let locating = false;

  function shareLocation() {
    if (locating) return;
    if (!("geolocation" in navigator)) {
      notice(t.locationUnavailable);
      return;
    }
    locating = true;
    locBtn.disabled = true;
    conn.textContent = t.locating;
    conn.hidden = false;
    const done = () => {
      locating = false;
      locBtn.disabled = false;
      showConnection();
    };
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        done();
        locBtn.classList.remove("prominent");
        const lat = Math.round(pos.coords.latitude * 1e6) / 1e6;
        const lon = Math.round(pos.coords.longitude * 1e6) / 1e6;
        const shown = `${t.myLocation}${lat.toFixed(5)}, ${lon.toFixed(5)}`;
        sendJson({ location: { lat, lon } }, mine({ text: shown }));
      },
      (err) => {
        done();
        notice(err && err.code === 1 ? t.locationDenied : t.locationUnavailable);
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  }

  // --- photos -----------------------------------------------------------------------------------

  // Phones take 10 MB photos: redraw anything large as a JPEG of at most MAX_SIDE pixels.
  async function preparePhoto(file) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (_) {
      return { blob: file, image: false }; // not an image this browser can read: the server decides
    }
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.size <= KEEP_AS_IS_BYTES && /^image\/(jpeg|png|gif|webp)$/.test(file.type)) {
      bitmap.close();
      return { blob: file, image: true };
    }
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; // transparent PNGs would turn black in a JPEG
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
    return blob ? { blob, image: true } : { blob: file, image: true };
  }

  async function sendPhoto(file) {
    const { blob, image } = await preparePhoto(file);
    if (blob.size > MAX_UPLOAD_BYTES) {
      notice(t.photoTooLarge);
      return;
    }
    const view = image
      ? mine({ image: URL.createObjectURL(blob) })
      : mine({ text: t.attachment + (file.name || "") });
    const id = newId();
    const name = image && blob !== file ? "photo.jpg" : file.name || "photo";
    enqueue({
      path: "/upload",
      view,
      request: () => {
        const data = new FormData();
        data.append("id", id);
        data.append("file", blob, name);
        return { body: data };
      },
    });
  }

  // --- pushed messages (status updates, rating prompts) -----------------------------------------

  let lastEvent = 0;
  try {
    lastEvent = parseInt(localStorage.getItem(LAST_EVENT_KEY) || "0", 10) || 0;
  } catch (_) {
    /* storage disabled */
  }
  let events = null;
  let eventsDown = false;
  let reconnectDelay = 2000;

  function showConnection() {
    if (locating) return;
    const text = !navigator.onLine ? t.offline : eventsDown ? t.reconnecting : "";
    conn.textContent = text;
    conn.hidden = !text;
  }

  function connectEvents() {
    events = new EventSource(`${API}/events?after=${lastEvent}`);
    events.addEventListener("open", () => {
      eventsDown = false;
      reconnectDelay = 2000;
      showConnection();
    });
    events.addEventListener("message", (ev) => {
      const id = parseInt(ev.lastEventId, 10);
      if (Number.isFinite(id)) {
        if (id <= lastEvent) return;
        lastEvent = id;
        try {
          localStorage.setItem(LAST_EVENT_KEY, String(id));
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
    events.addEventListener("error", () => {
      eventsDown = true;
      showConnection();
      if (events.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
      // Refused (e.g. the session expired): renew the session and reconnect from the last seen id.
      events.close();
      const delay = reconnectDelay;
      reconnectDelay = Math.min(reconnectDelay * 2, 60000);
      setTimeout(() => {
        ensureSession(true)
          .catch(() => {})
          .finally(connectEvents);
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
    if (!text) return;
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

  locBtn.addEventListener("click", shareLocation);
  photoBtn.addEventListener("click", () => photoInput.click());
  photoInput.addEventListener("change", () => {
    const file = photoInput.files && photoInput.files[0];
    photoInput.value = "";
    if (file) sendPhoto(file);
  });

  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);

  applyLabels();
  append(botBubble(t.greeting));
  ensureSession()
    .catch(() => {})
    .finally(connectEvents);
})();
