/* The portal's only script, served from the portal (CSP script-src 'self'). Every page works
   without it: it only adds a live password checklist and a "show password" switch. The server
   checks every rule again; nothing here decides anything. */
(function () {
  "use strict";

  var CLASSES = [/\p{Lu}/u, /\p{Ll}/u, /\p{Nd}/u, /[^\p{L}\p{Nd}\s]/u];

  function length(text) {
    return Array.from(text).length; /* characters, as the server counts them, not UTF-16 units */
  }

  function kinds(text) {
    return CLASSES.filter(function (pattern) { return pattern.test(text); }).length;
  }

  function met(item, password, again) {
    var low = Number(item.dataset.low), high = Number(item.dataset.high);
    switch (item.dataset.check) {
      case "length": return length(password) >= low && length(password) <= high;
      case "classes": return kinds(password) >= low;
      case "match": return password !== "" && password === again;
    }
    return false;
  }

  /* ok: true or false once something is typed; null before, when the rules read as a plain list
     (a "Not yet:" before each would only lengthen what a screen reader reads with the field) */
  function mark(list, item, ok) {
    var state = item.querySelector(".rule-state");
    item.classList.toggle("rule-met", ok === true);
    item.classList.toggle("rule-unmet", ok === false);
    if (ok === null) {
      if (state) { state.remove(); }
      return;
    }
    if (!state) {
      state = document.createElement("span");
      state.className = "rule-state visually-hidden";
      item.insertBefore(state, item.firstChild);
    }
    state.textContent = (ok ? list.dataset.met : list.dataset.unmet) + " ";
  }

  function checklist(list) {
    var first = document.getElementById(list.dataset.password);
    var second = document.getElementById(list.dataset.again);
    if (!first || !second) { return; }
    var items = list.querySelectorAll("li[data-check]");
    function update() {
      var typed = first.value !== "" || second.value !== "";
      items.forEach(function (item) {
        item.hidden = false;
        mark(list, item, typed ? met(item, first.value, second.value) : null);
      });
    }
    first.addEventListener("input", update);
    second.addEventListener("input", update);
    update();
  }

  function revealer(control) {
    var box = control.querySelector("input[type=checkbox]");
    var form = control.closest("form");
    if (!box || !form) { return; }
    var fields = form.querySelectorAll("input[type=password]");
    function show(visible) {
      fields.forEach(function (field) { field.type = visible ? "text" : "password"; });
    }
    box.addEventListener("change", function () { show(box.checked); });
    /* sent as password fields, so the browser neither keeps them in its form history nor autofills them */
    form.addEventListener("submit", function () { show(false); });
    control.hidden = false;
  }

  document.querySelectorAll("ul[data-password]").forEach(checklist);
  document.querySelectorAll("[data-show-password]").forEach(revealer);
}());
