// Web chat page: plain JS, no build step. Served under CSP default-src 'self': no inline code.
// Every message text is rendered with textContent, never as HTML. What the staff page shares
// (rendering, buttons, delivery with retries, the event stream) is in chatcore.js.
"use strict";

(() => {
  const { $, el, button, newId } = window.WZChat;
  const API = "/chat/api";
  const LAST_EVENT_KEY = "wz_chat_last_event";
  const MAX_SIDE = 1600; // photos are downscaled to this many pixels on the long side
  const KEEP_AS_IS_BYTES = 1024 * 1024;
  const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

  const ui = window.WZChat.page({
    zh: {
      title: "网上问政",
      placeholder: "请描述您的问题…",
      input: "输入您的问题",
      location: "位置",
      locationTitle: "发送我的位置",
      photo: "照片",
      photoTitle: "发送照片",
      greeting:
        "您好！这里是网上问政平台。\n请直接描述您要反映的问题：在哪里、发生了什么、持续多久。也可以发送位置和照片。\n发送“帮助”查看更多用法。",
      myLocation: "我的位置：",
      locating: "正在获取位置…",
      locationDenied: "无法获取您的位置（未获授权）。请直接输入详细地址，如：市南区香港中路8号。",
      locationUnavailable: "暂时无法获取您的位置。请直接输入详细地址，如：市南区香港中路8号。",
      photoAlt: "您发送的照片",
      attachment: "附件：",
      photoTooLarge: "照片太大了（上限5MB），请换一张较小的照片。",
      copy: "复制",
      copied: "已复制",
      status: "办理进度",
      rating: "服务评价",
    },
    en: {
      title: "Online inquiries",
      placeholder: "Your issue…",
      input: "Type your message",
      location: "Place",
      locationTitle: "Share my location",
      photo: "Photo",
      photoTitle: "Send a photo",
      greeting:
        'Hello! This is the government inquiry service.\nDescribe your issue: where it is, what happened and for how long. You can also send your location and photos.\nSend "help" to see what else you can do.',
      myLocation: "My location: ",
      locating: "Getting your location…",
      locationDenied:
        "We could not get your location (permission denied). Please type the full address, e.g. 8 Xianggang Middle Rd, Shinan District.",
      locationUnavailable:
        "Your location is not available right now. Please type the full address, e.g. 8 Xianggang Middle Rd, Shinan District.",
      photoAlt: "Your photo",
      attachment: "Attachment: ",
      photoTooLarge: "That photo is too large (5 MB at most). Please choose a smaller one.",
      copy: "Copy",
      copied: "Copied",
      status: "Progress update",
      rating: "Your rating",
    },
  });
  const { t, notice } = ui;

  const locBtn = $("loc-btn");
  const photoBtn = $("photo-btn");
  const photoInput = $("photo-input");

  function applyLabels() {
    ui.applyLabels();
    $("loc-label").textContent = t.location;
    $("photo-label").textContent = t.photo;
    for (const [tool, title] of [
      [locBtn, t.locationTitle],
      [photoBtn, t.photoTitle],
    ]) {
      tool.title = title;
      tool.setAttribute("aria-label", title);
    }
  }

  // --- rendering --------------------------------------------------------------------------------

  function ticketChip(number) {
    const chip = ui.ticketChip(number);
    if (navigator.clipboard && window.isSecureContext) {
      const copy = button("linkish", t.copy);
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

  function renderReply(reply) {
    if (!reply || typeof reply.text !== "string") return;
    const purpose = reply.purpose || "reply";
    const wrap = ui.botBubble(reply.text, purpose === "reply" ? "" : purpose);
    if (purpose === "status" || purpose === "rating") {
      wrap.insertBefore(el("div", "kind", purpose === "status" ? t.status : t.rating), wrap.firstChild);
    }
    // The number is offered for copying where it is given out, not on every later update.
    if (reply.ticket_number && purpose === "reply") wrap.appendChild(ticketChip(String(reply.ticket_number)));
    const choices = Array.isArray(reply.choices) ? reply.choices : [];
    if (choices.length && purpose === "reply") {
      // A new question makes the unused buttons of the previous ones stale.
      for (const old of ui.log.querySelectorAll('.choices[data-purpose="reply"]:not([data-used])')) old.retire();
    }
    if (choices.length || reply.request_location) {
      const group = ui.choiceGroup(choices, (c) => sendChoice({ id: c.id, label: c.label }), purpose);
      if (reply.request_location) {
        const share = button("choice primary", t.locationTitle);
        share.addEventListener("click", shareLocation);
        group.appendChild(share);
      }
      wrap.appendChild(group);
    }
    if (purpose === "reply") locBtn.classList.toggle("prominent", Boolean(reply.request_location));
    ui.append(wrap);
  }

  function minePhoto(src) {
    return ui.mine((bubble) => {
      bubble.classList.add("has-photo");
      const img = el("img", "photo");
      img.alt = t.photoAlt;
      img.src = src;
      img.addEventListener("load", ui.scrollToEnd);
      bubble.appendChild(img);
    });
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

  const out = window.WZChat.sender(ui, {
    api: API,
    render: renderReply,
    ready: () => ensureSession(),
    renew: () => ensureSession(true),
  });

  function sendText(text) {
    out.sendJson({ text }, ui.mine(text));
  }

  function sendChoice(choice) {
    out.sendJson({ choice }, ui.mine(choice.label));
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
    ui.setStatus(t.locating);
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
        out.sendJson({ location: { lat, lon } }, ui.mine(shown));
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
    const view = image ? minePhoto(URL.createObjectURL(blob)) : ui.mine(t.attachment + (file.name || ""));
    const id = newId();
    const name = image && blob !== file ? "photo.jpg" : file.name || "photo";
    out.send("/upload", view, () => {
      const data = new FormData();
      data.append("id", id);
      data.append("file", blob, name);
      return { body: data };
    });
  }

  // --- pushed messages (status updates, rating prompts) -----------------------------------------

  const events = window.WZChat.eventStream({
    api: API,
    key: () => LAST_EVENT_KEY,
    render: renderReply,
    changed: () => showConnection(),
    // Refused (e.g. the session expired): renew the session and reconnect from the last seen id.
    refused: () =>
      ensureSession(true)
        .catch(() => {})
        .then(() => true),
  });

  function showConnection() {
    if (!locating) ui.showConnection(events.down);
  }

  // --- wiring -----------------------------------------------------------------------------------

  ui.composer(sendText);
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
  ui.append(ui.botBubble(t.greeting));
  ensureSession()
    .catch(() => {})
    .finally(() => events.start());
})();
