/* Kasir embed loader. Put <div data-kasir-checkout="https://kasir.example/pay/cs_..."></div>
   on a storefront page and load this script from the Kasir server. It inserts an iframe of
   the hosted page (?embed=1): card data never enters the storefront's page. Messages are
   accepted only from Kasir's origin and that very frame; each becomes a DOM event on the
   container: kasir:ready, kasir:succeeded, kasir:failed, kasir:expired (detail = data). */
(function () {
  "use strict";
  var script = document.currentScript;
  var kasirOrigin = new URL(script.src).origin;
  function mount(el) {
    if (el.dataset.kasirMounted) return;
    var url = new URL(el.getAttribute("data-kasir-checkout"), kasirOrigin);
    if (url.origin !== kasirOrigin) return;
    url.searchParams.set("embed", "1");
    var frame = document.createElement("iframe");
    frame.src = url.toString();
    frame.title = el.getAttribute("data-kasir-title") || "Kasir checkout";
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.minHeight = "420px";
    frame.setAttribute("allow", "clipboard-write");
    el.dataset.kasirMounted = "1";
    el.appendChild(frame);
    window.addEventListener("message", function (event) {
      if (event.origin !== kasirOrigin || event.source !== frame.contentWindow) return;
      var data = event.data || {};
      if (typeof data.type !== "string" || data.type.indexOf("kasir:") !== 0) return;
      if (data.type === "kasir:resize" && typeof data.height === "number") {
        frame.style.height = Math.ceil(data.height) + "px";
        return;
      }
      el.dispatchEvent(new CustomEvent(data.type, { detail: data, bubbles: true }));
    });
  }
  function mountAll() {
    document.querySelectorAll("[data-kasir-checkout]").forEach(mount);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
