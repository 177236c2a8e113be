/* A page region marked data-refresh="<seconds>" fetches the page again that often, while the
   tab is visible, and swaps in the new region: the control room's home stays current without a
   full reload. The request says it is a refresh (X-Cplan-Refresh), so it does not count as the
   officer's activity; once the session has ended the whole page reloads (to the sign-in page).
   Without scripts the page is simply as it was served. */
(function () {
  "use strict";
  var region = document.querySelector("[data-refresh][id]");
  var seconds = region ? parseInt(region.getAttribute("data-refresh"), 10) : 0;
  if (!region || !(seconds >= 15) || !window.fetch || !window.DOMParser) {
    return;
  }
  function refresh() {
    if (document.visibilityState === "hidden") {
      return;
    }
    window.fetch(window.location.href, {
      credentials: "same-origin",
      headers: {"X-Cplan-Refresh": "1"},
      cache: "no-store"
    }).then(function (response) {
      if (!response.ok || response.redirected) {
        window.location.reload();
        return null;
      }
      return response.text();
    }).then(function (html) {
      if (!html) {
        return;
      }
      var page = new window.DOMParser().parseFromString(html, "text/html");
      var fresh = page.getElementById(region.id);
      if (fresh) {
        region.replaceWith(document.importNode(fresh, true));
        region = document.getElementById(fresh.id);
      }
    }).catch(function () {
      /* Offline for a moment: try again at the next turn. */
    });
  }
  window.setInterval(refresh, seconds * 1000);
}());
