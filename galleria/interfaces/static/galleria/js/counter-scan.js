/* Camera scanner of the merchant counter and the events check-in desk: read a code with the camera, or from a
   photo, using @zxing/browser (served from node_modules as static/vendor/zxing/, no CDN). The member app shows the
   member code (and an event ticket) as a QR code and a Code 128 barcode; either is read. What was read goes into the
   form's code box (the [data-scanner] element's data-input selector, default input[name=q]) and the form named by
   data-target is submitted, exactly as a USB scanner that types the code and presses Enter. Messages come translated
   from the element's data-msg-* attributes (no inline script: CSP). */
(function () {
  "use strict";
  var box = document.querySelector("[data-scanner]");
  if (!box) return;
  var form = document.querySelector(box.getAttribute("data-target"));
  var input = form && form.querySelector(box.getAttribute("data-input") || "input[name=q]");
  var view = box.querySelector("[data-scanner-view]");
  var video = box.querySelector("[data-scanner-video]");
  var start = box.querySelector("[data-scanner-start]");
  var stop = box.querySelector("[data-scanner-stop]");
  var file = box.querySelector("[data-scanner-file]");
  var status = box.querySelector("[data-scanner-status]");
  var controls = null;
  var done = false;

  function say(key) { status.textContent = box.getAttribute("data-msg-" + key) || ""; }

  if (!window.ZXingBrowser || !form || !input) {
    if (start) start.hidden = true;
    if (file) file.closest("label").hidden = true;
    return;
  }
  var reader = new window.ZXingBrowser.BrowserMultiFormatReader();

  function found(text) {
    if (done) return;
    var code = String(text || "").replace(/\s+/g, "");
    if (!code) return;
    done = true;
    halt();
    say("found");
    input.value = code;
    box.setAttribute("data-scanned", code);
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  function halt() {
    if (controls) { try { controls.stop(); } catch (e) { /* already stopped */ } controls = null; }
    view.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  }

  start.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { say("unsupported"); return; }
    say("starting");
    view.hidden = false;
    start.hidden = true;
    stop.hidden = false;
    reader.decodeFromConstraints({ video: { facingMode: "environment" } }, video, function (result) {
      if (result) found(result.getText());
    }).then(function (c) {
      controls = c;
      if (done) halt(); else say("scanning");
    }).catch(function () {
      halt();
      say("denied");
    });
  });

  stop.addEventListener("click", function () { halt(); status.textContent = ""; });

  file.addEventListener("change", function () {
    var picked = file.files && file.files[0];
    if (!picked) return;
    var fr = new FileReader();  // a data: URL (the CSP allows data: images, not blob:)
    fr.onload = function () {
      reader.decodeFromImageUrl(String(fr.result)).then(function (result) {
        found(result.getText());
      }).catch(function () { say("nocode"); });
    };
    fr.readAsDataURL(picked);
    file.value = "";
  });
})();
