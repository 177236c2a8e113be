/* Every mark of a generated spelling gets the page's one explanation (#generated-note) as its
   tooltip; see generated_name in cplan/web/templating.py. */
(function () {
  "use strict";
  var note = document.getElementById("generated-note");
  var text = note && note.getAttribute("data-title");
  var marks = text ? document.querySelectorAll("main .generated") : [];
  for (var i = 0; i < marks.length; i += 1) {
    if (!marks[i].title) {
      marks[i].title = text;
    }
  }
}());
