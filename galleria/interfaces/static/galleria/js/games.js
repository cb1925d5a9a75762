/* Member app games (docs/games.md): the play form posts and gets the server's result as JSON, then the wheel spins
   to it, the scratch card reveals it, or the chosen box opens. The result is decided before anything moves; the
   animation only shows it. Without JavaScript the form posts and the prize page opens. */
(function () {
  "use strict";
  var stage = document.querySelector("[data-testid=game-stage]");
  if (!stage) return;
  var form = stage.querySelector("form.gm-play");
  var button = form.querySelector("[data-testid=game-play]");
  var out = stage.querySelector("[data-testid=game-result]");
  var kind = stage.getAttribute("data-kind");
  var wheel = stage.querySelector(".gm-wheel");
  var turned = 0;
  var busy = false;

  function show(data) {
    out.hidden = false;
    out.className = "gm-result " + (data.won ? "is-win" : "is-thanks");
    out.textContent = "";
    var p = document.createElement("p");
    p.textContent = data.message;
    out.appendChild(p);
    if (data.url) {
      var a = document.createElement("a");
      a.href = data.url;
      a.className = "btn btn-block";
      a.setAttribute("data-testid", "game-result-open");
      a.textContent = out.getAttribute("data-open") || stage.getAttribute("data-open-label") || "OK";
      out.appendChild(a);
    }
    var allowance = form.querySelector("[data-testid=game-allowance]");
    if (allowance && data.allowance) allowance.textContent = data.allowance;
    if (data.next_key) form.querySelector("input[name=key]").value = data.next_key;
    button.disabled = !data.can_play;
    busy = false;
    stage.setAttribute("data-state", "done");
  }

  function spin(data, done) {
    var slots = parseInt(wheel.getAttribute("data-slots"), 10) || 1;
    var size = 360 / slots;
    // the pointer is at the top: bring the middle of the winning slot under it, after 5 full turns
    var target = 360 - (data.slot * size + size / 2);
    turned = turned - (turned % 360) + 360 * 5 + target;
    wheel.style.transition = "transform 3.2s cubic-bezier(.17,.67,.21,1)";
    wheel.style.transform = "rotate(" + turned + "deg)";
    window.setTimeout(done, 3300);
  }

  function scratch(data, done) {
    var result = stage.querySelector("[data-testid=game-scratch-result]");
    var cover = stage.querySelector(".gm-scratch-cover");
    result.textContent = data.won ? data.prize_name : data.message;
    var ctx = cover.getContext("2d");
    cover.style.display = "block";
    ctx.globalCompositeOperation = "source-over";
    ctx.fillStyle = "#adb5bd";
    ctx.fillRect(0, 0, cover.width, cover.height);
    ctx.globalCompositeOperation = "destination-out";
    var strokes = 0;
    var finished = false;
    function rub(e) {
      if (finished) return;
      var r = cover.getBoundingClientRect();
      var x = ((e.clientX - r.left) / r.width) * cover.width;
      var y = ((e.clientY - r.top) / r.height) * cover.height;
      ctx.beginPath();
      ctx.arc(x, y, 18, 0, Math.PI * 2);
      ctx.fill();
      strokes += 1;
      if (strokes > 40) finish();
    }
    function finish() {
      if (finished) return;
      finished = true;
      cover.style.display = "none";
      done();
    }
    cover.onpointermove = function (e) { if (e.buttons || e.pointerType === "touch") rub(e); };
    cover.onpointerdown = rub;
    window.setTimeout(finish, 6000); // a member who does not scratch still sees the result
  }

  function openBox(data, chosen, done) {
    stage.querySelectorAll(".gm-box").forEach(function (b) { b.disabled = true; });
    var box = chosen || stage.querySelector(".gm-box");
    box.classList.add("is-open", data.won ? "is-win" : "is-thanks");
    window.setTimeout(done, 900);
  }

  function play(chosen) {
    if (busy || button.disabled) return;
    busy = true;
    button.disabled = true;
    out.hidden = true;
    stage.setAttribute("data-state", "playing");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json", "X-CSRFToken": form.querySelector("input[name=csrfmiddlewaretoken]").value },
      credentials: "same-origin",
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) {
          show({ message: res.body.message, won: false, can_play: false });
          return;
        }
        var data = res.body;
        stage.setAttribute("data-slot", data.slot);
        var finish = function () { show(data); };
        if (kind === "wheel") spin(data, finish);
        else if (kind === "scratch") scratch(data, finish);
        else openBox(data, chosen, finish);
      })
      .catch(function () { form.submit(); });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); play(null); });
  stage.querySelectorAll(".gm-box").forEach(function (b) {
    b.addEventListener("click", function () { play(b); });
  });
})();
