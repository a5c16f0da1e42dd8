// The desk's keyboard (j/k move, Enter open, / search, c claim, ? help), reply templates,
// picking a duplicate's original, and showing htmx refusals. No framework; htmx does the rest.
(function () {
  "use strict";
  let current = null; // the selected ticket's number, kept across the queue's refreshes

  function rows() { return Array.from(document.querySelectorAll("#queue tr.ticket")); }

  function select(row) {
    rows().forEach((r) => r.classList.toggle("selected", r === row));
    if (row) { current = row.dataset.number; row.scrollIntoView({ block: "nearest" }); }
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.findIndex((r) => r.dataset.number === current);
    const next = at < 0 ? 0 : Math.min(all.length - 1, Math.max(0, at + step));
    select(all[next]);
  }

  function typing(target) {
    return target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  function claimSelected() {
    const row = rows().find((r) => r.dataset.number === current);
    const bulk = document.getElementById("bulk");
    if (!row || !bulk) return;
    rows().forEach((r) => { const box = r.querySelector("input[type=checkbox]"); if (box) box.checked = r === row; });
    const button = bulk.querySelector("button[value=claim]");
    if (button) button.click();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const help = document.getElementById("help");
    if (event.key === "?") { if (help) { help.open ? help.close() : help.showModal(); } event.preventDefault(); return; }
    if (!document.getElementById("queue")) return;
    if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (event.key === "Enter" && current) { window.location.href = "/console/tickets/" + encodeURIComponent(current); }
    else if (event.key === "/") { const s = document.getElementById("search"); if (s) { s.focus(); s.select(); } event.preventDefault(); }
    else if (event.key === "c" && current) { claimSelected(); event.preventDefault(); }
  });

  document.addEventListener("click", (event) => {
    const pick = event.target.closest(".pick-original");
    if (pick) {
      const form = pick.closest("form");
      const input = form && form.querySelector("input[name=argument]");
      if (input) input.value = pick.dataset.number;
      return;
    }
    const row = event.target.closest("#queue tr.ticket");
    if (row && !event.target.closest("a, input, button")) select(row);
  });

  document.addEventListener("change", (event) => {
    const chooser = event.target.closest("select.template");
    if (!chooser || !chooser.value) return;
    const box = document.getElementById(chooser.dataset.target);
    if (box) { box.value = chooser.value; box.focus(); }
  });

  // Saving a view saves what the desk shows now: htmx may have changed the filter since the page loaded.
  document.addEventListener("submit", (event) => {
    const field = event.target.closest(".views form") && event.target.querySelector("input[name=query]");
    if (field) field.value = window.location.search.replace(/^\?/, "");
  });

  // The desk refreshes itself, but not while tickets are ticked for a bulk action (the ticks would go).
  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    if (elt && elt.id === "queue" && elt.querySelector("input[type=checkbox]:checked")) event.preventDefault();
  });

  document.addEventListener("htmx:afterSwap", () => {
    if (current) { const row = rows().find((r) => r.dataset.number === current); if (row) row.classList.add("selected"); }
  });

  // A refusal (403 CSRF, 401 signed out) would otherwise be silent under htmx: show its words.
  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    const box = document.createElement("p");
    box.className = "flash refused";
    box.setAttribute("role", "alert");
    box.textContent = xhr.responseText || String(xhr.status);
    const main = document.querySelector("main");
    if (main) main.prepend(box);
  });
})();
