/* Merchant portal, POS key page: copy buttons (no inline script: CSP). */
/* Copy buttons for the secret and the settings block. Shown only with JavaScript; without it the text is selectable. */
(function () {
  "use strict";
  var root = document.querySelector("[data-copied-text]");
  if (!root) return;
  var copiedText = root.getAttribute("data-copied-text");
  var manualText = root.getAttribute("data-manual-text");
  function legacyCopy(text) {
    var area = document.createElement("textarea");
    area.value = text; area.setAttribute("readonly", ""); area.style.position = "fixed"; area.style.opacity = "0";
    document.body.appendChild(area); area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  function selectText(node) {
    var range = document.createRange(); range.selectNodeContents(node);
    var selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return legacyCopy(text); });
    }
    return Promise.resolve(legacyCopy(text));
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(source.textContent).then(function (ok) {
        if (!ok) selectText(source);
        button.textContent = ok ? copiedText : manualText;
        button.classList.toggle("copied", ok);
        setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 2500);
      });
    });
  });
})();
