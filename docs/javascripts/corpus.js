// Paragraph links: activating a ¶ copies the paragraph's permanent address (the page's
// canonical URL plus #pN) and still moves to the paragraph. Without JavaScript the ¶ is
// an ordinary link.
(function () {
  "use strict";
  var status = null;

  function announce(text) {
    if (!status) {
      status = document.createElement("span");
      status.className = "corpus-sr";
      status.setAttribute("role", "status");
      document.body.appendChild(status);
    }
    status.textContent = text;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.corpus-pilcrow");
    if (!link || !navigator.clipboard) {
      return;
    }
    var canonical = document.querySelector('link[rel="canonical"]');
    var base = canonical ? canonical.href : window.location.href.split("#")[0];
    var url = base.split("#")[0] + link.getAttribute("href");
    navigator.clipboard.writeText(url).then(function () {
      link.setAttribute("data-copied", "link copied");
      announce("Link to this paragraph copied: " + url);
      window.setTimeout(function () {
        link.removeAttribute("data-copied");
      }, 2000);
    }, function () {});
  });
})();
