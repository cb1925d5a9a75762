// Pay inside WeChat (JSAPI): hand the signed parameters Galleria got from WeChat Pay to WeixinJSBridge; the page
// then polls for the gateway's word as for any payment. Outside WeChat the app uses H5 and never renders the button.
(function () {
  "use strict";
  // Just started: go on to the gateway's cashier at once (the link stays for a member who comes back).
  var go = document.querySelector("[data-autogo]");
  if (go && !sessionStorage.getItem("galleria-went-" + go.href)) {
    sessionStorage.setItem("galleria-went-" + go.href, "1");
    window.location.assign(go.href);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-wx-pay]");
    if (!button) return;
    var data = document.getElementById("wx-jsapi");
    if (!data || typeof window.WeixinJSBridge === "undefined") return;
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", JSON.parse(data.textContent), function () {
      window.location.reload();
    });
  });
})();
