/* The call sheet records a call's outcome without reloading the sheet: a tap on an outcome
   posts the same form (with its CSRF token) by fetch, asking with X-Cplan-Fragment for only
   what changed, and swaps in the contact's card, the tally with the suggested verdict, and the
   message. The other cards keep their place and what was typed in them. Whatever else comes
   back (the session ended, the incident is gone, the form expired, no connection) falls back
   to the plain form post, which shows the page the server has for it. Without scripts the
   form posts and the sheet reloads, as it always did. */
(function () {
  "use strict";
  var sheet = document.querySelector("[data-call-sheet]");
  var status = document.getElementById("call-status");
  if (!sheet || !status || !window.fetch || !window.FormData || !window.DOMParser) {
    return;
  }

  function postPlainly(form, button) {
    /* form.submit() sends no button: the outcome goes as a hidden field. */
    var outcome = document.createElement("input");
    outcome.type = "hidden";
    outcome.name = button.name;
    outcome.value = button.value;
    form.appendChild(outcome);
    window.HTMLFormElement.prototype.submit.call(form);
  }

  function swap(page, id) {
    var fresh = page.getElementById(id);
    var old = document.getElementById(id);
    if (fresh && old) {
      old.replaceWith(document.importNode(fresh, true));
    }
  }

  function buttonsOf(form, disabled) {
    var buttons = form.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].disabled = disabled;
    }
  }

  sheet.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (!form.classList.contains("call-outcome-form") || !button || !button.name) {
      return;
    }
    event.preventDefault();
    var data = new window.FormData(form);
    data.append(button.name, button.value);
    var card = form.closest(".call-card");
    buttonsOf(form, true); /* one tap, one call: no second post while the first is on its way */
    window.fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: {"X-Cplan-Fragment": "1"},
      cache: "no-store"
    }).then(function (response) {
      if (response.redirected || response.headers.get("X-Cplan-Fragment") !== "call") {
        throw new Error("not an answer of the call sheet");
      }
      return response.text();
    }).then(function (html) {
      var page = new window.DOMParser().parseFromString(html, "text/html");
      var message = page.getElementById("call-status");
      status.className = message ? message.className : "call-status";
      status.textContent = message ? message.textContent : "";
      if (card && page.getElementById(card.id)) {
        swap(page, card.id);
        swap(page, "call-summary");
        /* The keyboard stays where it was: on the same outcome of the card swapped in. */
        var again = document.getElementById(card.id).querySelector(
          "button[value=\"" + button.value + "\"]"
        );
        if (again && document.activeElement === document.body) {
          again.focus();
        }
      } else {
        buttonsOf(form, false); /* refused: nothing changed, the card stays as typed */
      }
    }).catch(function () {
      postPlainly(form, button);
    });
  });
}());
