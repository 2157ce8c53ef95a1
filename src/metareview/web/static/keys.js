// metareview: keyboard shortcuts of the screening page (our own code, no library).
// i include · e exclude then 1-9 reason (0 = none) · m maybe · n note · u undo · Esc cancel.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("decide-form");
    var reasons = document.getElementById("reasons");
    var excludeBtn = document.getElementById("exclude-btn");
    var reasonField = document.getElementById("reason-field");
    var undo = document.getElementById("undo-form");
    var note = document.getElementById("note");
    var sent = false;
    function submitWith(button) {
      if (sent || !button) { return; }
      sent = true;
      if (reasonField && button.hasAttribute("data-reason")) { reasonField.value = button.getAttribute("data-reason"); }
      form.requestSubmit(button);
    }
    function openReasons() {
      if (!reasons) { return; }
      reasons.hidden = false;
      var first = reasons.querySelector("button");
      if (first) { first.focus(); }
    }
    if (excludeBtn) { excludeBtn.addEventListener("click", openReasons); }
    if (reasons) {
      reasons.querySelectorAll("button[data-reason]").forEach(function (b) {
        b.addEventListener("click", function (ev) { ev.preventDefault(); submitWith(b); });
      });
    }
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
      var t = ev.target;
      if (ev.key === "Escape") {
        if (reasons && !reasons.hidden) { reasons.hidden = true; if (excludeBtn) { excludeBtn.focus(); } }
        if (typing(t)) { t.blur(); }
        return;
      }
      if (typing(t)) { return; }
      if (reasons && !reasons.hidden && /^[0-9]$/.test(ev.key)) {
        var b = reasons.querySelector('button[data-num="' + ev.key + '"]');
        if (b) { ev.preventDefault(); submitWith(b); }
        return;
      }
      if (!form && ev.key !== "u") { return; }
      if (ev.key === "i") { ev.preventDefault(); submitWith(form.querySelector('button[value="include"]')); }
      else if (ev.key === "m") { ev.preventDefault(); submitWith(form.querySelector('button[value="maybe"]')); }
      else if (ev.key === "e") { ev.preventDefault(); openReasons(); }
      else if (ev.key === "n" && note) { ev.preventDefault(); note.focus(); }
      else if (ev.key === "u" && undo) { ev.preventDefault(); undo.requestSubmit(); }
    });
  });
})();
