/* The member app's "turn on notifications" control (profile page): registers the service worker (/app/sw.js, scope
   /app/), subscribes this browser with the installation's VAPID key and saves the subscription through the member API;
   turning off unsubscribes and forgets it. Permission refused or unsupported: an inline message, nothing saved. */
(function () {
  "use strict";
  const root = document.querySelector("[data-push]");
  if (!root) return;
  const button = root.querySelector("[data-testid=push-toggle]");
  const status = root.querySelector("[data-testid=push-status]");
  const error = root.querySelector("[data-testid=push-error]");
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const text = {};
  root.querySelector("template[data-push-text]").content.querySelectorAll("[data-k]").forEach((el) => {
    text[el.dataset.k] = el.textContent.trim();
  });
  let registration = null;
  let subscription = null;

  function showError(message) {
    error.textContent = message;
    error.hidden = !message;
  }
  function render() {
    status.textContent = subscription ? text.on : text.off;
    button.textContent = subscription ? text.turn_off : text.turn_on;
    button.setAttribute("aria-pressed", subscription ? "true" : "false");
  }
  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    status.textContent = text.unsupported;
    button.disabled = true;
    return;
  }
  if (Notification.permission === "denied") showError(text.denied);
  const ready = navigator.serviceWorker
    .register(root.dataset.sw, { scope: root.dataset.scope })
    .then((reg) => {
      registration = reg;
      return reg.pushManager.getSubscription();
    })
    .then((sub) => {
      subscription = sub;
      render();
    })
    .catch(() => render());

  async function turnOn() {
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      showError(text.denied);
      return;
    }
    await ready;
    if (!registration) throw new Error("no service worker");
    const key = await fetch(root.dataset.key, { credentials: "same-origin" }).then((r) => r.json());
    const sub = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(key.public_key),
    });
    const saved = await post(root.dataset.save, sub.toJSON());
    if (!saved.ok) {
      await sub.unsubscribe();
      throw new Error("not saved");
    }
    subscription = sub;
  }
  async function turnOff() {
    const endpoint = subscription.endpoint;
    await subscription.unsubscribe();
    subscription = null;
    await post(root.dataset.remove, { endpoint: endpoint });
  }

  button.addEventListener("click", async () => {
    showError("");
    button.disabled = true;
    status.textContent = text.working;
    try {
      if (subscription) await turnOff();
      else await turnOn();
    } catch (e) {
      showError(text.failed);
    } finally {
      button.disabled = false;
      render();
    }
  });
})();
