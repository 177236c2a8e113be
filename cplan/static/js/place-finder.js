/* The incident form's places, found as they are typed: the finder's box asks the app for the
   places of the post's scope named like it (at most 20) and shows each as a checkbox beside
   those already ticked, which stay ticked while the officer looks for the next one. The long
   list of the station's villages, which is how the form works without scripts, goes away. The
   finder's button and Enter do the same search without leaving the page (what was already
   typed in the report stays). Nothing is ticked that the officer did not tick. */
(function () {
  "use strict";
  var finder = document.querySelector("form.place-finder[data-places-url]");
  var choices = document.getElementById("place-choices");
  var status = document.getElementById("place-status");
  var box = finder && finder.querySelector("input[name=q]");
  if (!finder || !choices || !status || !box || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var list = document.getElementById("place-list");
  if (list) {
    list.remove();
  }
  var asked = 0;
  var timer = null;

  function show(places) {
    var kept = {};
    var labels = choices.querySelectorAll("label");
    for (var i = 0; i < labels.length; i += 1) {
      var input = labels[i].querySelector("input");
      if (input.checked) {
        kept[input.value] = true;
      } else {
        labels[i].remove(); /* an earlier search's place, not chosen */
      }
    }
    places.forEach(function (place) {
      var value = String(place.id);
      if (kept[value]) {
        return;
      }
      var label = document.createElement("label");
      label.className = "check";
      var input = document.createElement("input");
      input.type = "checkbox";
      input.name = "places";
      input.value = value;
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + place.label));
      choices.appendChild(label);
    });
    status.textContent = places.length ? "" : status.getAttribute("data-none");
  }

  function search() {
    var query = box.value.trim();
    if (query.length < 2) {
      return;
    }
    var mine = asked += 1;
    var url = finder.getAttribute("data-places-url") + "?" + new URLSearchParams({q: query});
    window.fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("no answer");
        }
        return response.json();
      })
      .then(function (answer) {
        if (mine === asked) { /* only the answer to what is typed now */
          show(answer.places);
        }
      })
      .catch(function () {
        if (mine === asked) {
          finder.submit(); /* the plain search, as without scripts */
        }
      });
  }

  box.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 250);
  });
  finder.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    search();
  });
}());
