{% load i18n %}/* Galleria member app service worker (served at {{ scope }}sw.js, scope {{ scope }}): shows web push messages and
   opens the message's page (same site only) on click. The payload is the JSON Galleria encrypts for this browser: {title, body, url, id}. */
"use strict";
const SCOPE = {{ scope_json|safe }};
const DEFAULT_TITLE = {{ default_title_json|safe }};

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { body: event.data ? event.data.text() : "" };
  }
  const options = { body: data.body || "", data: { url: data.url || SCOPE } };
  if (data.id) options.tag = "galleria-" + data.id;
  event.waitUntil(self.registration.showNotification(data.title || DEFAULT_TITLE, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  // the message's URL on this site (an app page, or a tracking link that redirects into the app); nothing elsewhere
  let target = new URL((event.notification.data && event.notification.data.url) || SCOPE, self.location.origin);
  if (target.origin !== self.location.origin) target = new URL(SCOPE, self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if (w.url === target.href && "focus" in w) return w.focus();
      }
      return self.clients.openWindow(target.href);
    })
  );
});
