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

// Diffs side by side. The inline view of a diff is the whole diff, and stays so without
// JavaScript; the side-by-side table is made from it when its tab is first opened, so a
// page carries each text once (versions_section in corpus_site/templating.py describes the
// markup). Nodes are cloned or made as text, never parsed from strings: corpus text stays
// text.
(function () {
  "use strict";
  // The title of a change of typography only ends with the old text.
  var WAS = "typography only, was: ";

  function element(name, className, children) {
    var node = document.createElement(name);
    if (className) {
      node.className = className;
    }
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // One side of a row's word operations: side "a" keeps deletions and old typography,
  // side "b" insertions and new typography; unchanged text and left-out text on both.
  function side(ops, which) {
    var cell = document.createDocumentFragment();
    ops.childNodes.forEach(function (node) {
      var name = node.nodeName;
      if (name === "DEL" ? which === "b" : name === "INS" && which === "a") {
        return;
      }
      if (which === "a" && node.classList && node.classList.contains("corpus-typo")) {
        cell.appendChild(document.createTextNode(node.title.slice(WAS.length)));
        return;
      }
      cell.appendChild(node.cloneNode(true));
    });
    return cell;
  }

  function absent() {
    return element("td", "", [element("span", "corpus-sr", ["absent"])]);
  }

  function tableRow(line) {
    var row = element("tr");
    var sign = line.querySelector(".corpus-sign");
    var what = line.querySelector(".corpus-d-what");
    var label = sign.textContent + " " + (what ? what.textContent : "");
    if (line.classList.contains("corpus-d-same")) {
      var note = line.textContent.slice(sign.textContent.length).trim();
      var cell = element("td", "", [sign.textContent + " " + note]);
      cell.colSpan = 2;
      row.className = "corpus-d-same";
      row.appendChild(cell);
      return row;
    }
    var strong = element("strong", "corpus-d-what", [label]);
    var one = line.querySelector(":scope > del, :scope > ins");
    if (one) {
      var text = element("td", "", [strong, " ", one.cloneNode(true)]);
      row.appendChild(one.nodeName === "DEL" ? text : absent());
      row.appendChild(one.nodeName === "DEL" ? absent() : text);
      return row;
    }
    var ops = line.querySelector(":scope > .corpus-ops");
    row.appendChild(element("td", "", [strong, " ", side(ops, "a")]));
    row.appendChild(element("td", "", [side(ops, "b")]));
    return row;
  }

  function build(box) {
    if (box.hasAttribute("data-built")) {
      return;
    }
    var inline = box.closest(".corpus-diff").querySelector(".corpus-diff-inline");
    var head = element("tr");
    [box.getAttribute("data-a"), box.getAttribute("data-b")].forEach(function (text) {
      var th = element("th", "", [text]);
      th.scope = "col";
      head.appendChild(th);
    });
    var body = element("tbody");
    inline.querySelectorAll(":scope > .corpus-d").forEach(function (line) {
      body.appendChild(tableRow(line));
    });
    // Wrapped as Material wraps the tables of a page when it loads (it will not see this
    // one), so that it looks like every other table.
    var table = element("table", "", [element("thead", "", [head]), body]);
    box.replaceChildren(
      element("div", "md-typeset__scrollwrap", [element("div", "md-typeset__table", [table])])
    );
    box.setAttribute("data-built", "");
  }

  // The side-by-side tab of a tab set is its second input; Material checks it on a click
  // (its own or a linked tab's), on the arrow keys, and without an event when it restores
  // the reader's last choice or follows a #__tabbed_… link, so the page is looked at once
  // it is loaded too.
  function update() {
    document.querySelectorAll(".corpus-diff-side:not([data-built])").forEach(function (box) {
      var set = box.closest(".tabbed-set");
      var input = set && set.querySelectorAll(":scope > input")[1];
      if (input && input.checked) {
        build(box);
      }
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest(".corpus-diff .tabbed-set")) {
      update();
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
})();
