/* The demo storefront's own script: shows the embedded checkout's events. */
(function () {
  "use strict";
  var log = document.getElementById("events");
  ["kasir:ready", "kasir:succeeded", "kasir:failed", "kasir:expired"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var item = document.createElement("li");
      item.textContent = type + (event.detail && event.detail.status ? " (" + event.detail.status + ")" : "");
      item.setAttribute("data-event", type);
      log.appendChild(item);
    });
  });
})();
