// The count line of the search results: "The best 20 of 9,874 matching documents".
//
// Material's result list says how many items it was given; the search worker
// (corpus-search.js) gives it the best 20 and sends the count of all matches here. A
// worker of another tab may send too: a count is used only for the query in this box.
// The line also carries the query it answers (data-query, data-total, data-shown), which
// tells tests and benchmarks that the results on screen are those of the final query.
(function () {
  "use strict";
  if (typeof BroadcastChannel !== "function") return;
  var meta = document.querySelector(".md-search-result__meta");
  var input = document.querySelector(".md-search__input");
  if (!meta || !input) return;
  var latest = null;

  function update() {
    if (!latest || latest.query !== input.value.trim()) return;
    if (meta.dataset.query !== latest.query) {
      meta.dataset.total = latest.error ? "0" : String(latest.total);
      meta.dataset.shown = latest.error ? "0" : String(latest.shown);
      meta.dataset.query = latest.query;
    }
    var text = null;
    if (latest.error) {
      text = "Search is not available: this site's search index was not built.";
    } else if (latest.total > latest.shown && /\d/.test(meta.textContent)) {
      text =
        "The best " + latest.shown + " of " + latest.total.toLocaleString("en") + " matching documents";
    }
    if (text && meta.textContent !== text) meta.textContent = text;
  }

  // A new key makes the line's query stale until the worker answers the new one: the
  // list on screen may still be that of an earlier query.
  input.addEventListener("input", function () {
    if (latest && latest.query === input.value.trim()) return;
    latest = null;
    delete meta.dataset.query;
  });

  new BroadcastChannel("corpus-search").onmessage = function (event) {
    latest = event.data;
    update();
  };
  new MutationObserver(update).observe(meta, { childList: true, characterData: true, subtree: true });
})();
