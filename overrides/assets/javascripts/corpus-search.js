// The search worker of Material's search box, answering from Pagefind's index.
//
// Material's search UI (the header box, the result list, keyboard navigation, the
// highlighting of found words on the page opened) talks to a web worker with four
// messages: SETUP (0) with the index, READY (1), QUERY (2) with the typed text, RESULT (3)
// with the result items (Material's integrations/search/worker). This worker speaks that
// protocol, and answers each query with Pagefind (/pagefind/, written by
// corpus_site/search.py after the MkDocs build), which downloads only the index chunks a
// query needs instead of one file of the whole corpus.
//
// Every text placed in a result is escaped here: Material inserts titles and excerpts as
// HTML. A result links to the paragraph that holds the best hit (#pN), and its `terms`
// are the words found, which Material highlights on the page it opens (?h=).
"use strict";

var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
// Results whose text is fetched and shown; the count of all matches is sent apart.
var SHOWN = 20;
// Words of context in an excerpt (Pagefind's default is 30; results stay short).
var EXCERPT_WORDS = 24;
// Wait this long for the next key before searching: a query per key would fetch the
// index chunks of every prefix typed.
var DEBOUNCE_MS = 120;
// Fetch the index for a query from this many characters on, before its search starts.
var PRELOAD_FROM = 3;

var pagefind = null;
var latest = 0;
// The count of all matches goes to the page's own script (corpus-search-count.js):
// Material's result list shows only the number of items it was given.
var channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("corpus-search") : null;

function siteRoot() {
  // This file is <site>/assets/javascripts/corpus-search.js.
  return new URL("../../", self.location.href);
}

function loadPagefind() {
  if (!pagefind) {
    var url = new URL("pagefind/pagefind.js", siteRoot()).href;
    pagefind = import(url).then(function (module) {
      return module
        .options({ baseUrl: "/", excerptLength: EXCERPT_WORDS })
        .then(function () {
          return module.init(); // starts fetching the index's entry, metadata and code
        })
        .then(function () {
          return module;
        });
    });
    pagefind.catch(function () {
      pagefind = null; // try again on the next query (the error is reported there)
    });
  }
  return pagefind;
}

function escapeHTML(text) {
  return String(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

// A word as the highlighter should look for it: letters and digits, lower case.
function bare(word) {
  return word.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
}

// Pagefind counts word positions in its plain content split at whitespace.
function words(content) {
  return content.split(/[\r\n\s]+/g);
}

// Escaped text of words[start, end), the words at `hits` marked, "…" where it is cut.
function excerpt(all, start, end, hits, from, to) {
  var parts = [];
  for (var i = start; i < end; i++) {
    var text = escapeHTML(all[i]);
    parts.push(hits.has(i) ? "<mark>" + text + "</mark>" : text);
  }
  var html = parts.join(" ").trim();
  if (start > from) html = "… " + html;
  if (end < to) html = html + " …";
  return html;
}

// A window of EXCERPT_WORDS words of [from, to) around its first hit.
function around(all, hits, from, to) {
  var first = to;
  hits.forEach(function (i) {
    if (i >= from && i < to && i < first) first = i;
  });
  if (first === to) first = from;
  var start = Math.max(from, Math.min(first - Math.floor(EXCERPT_WORDS / 3), to - EXCERPT_WORDS));
  var end = Math.min(to, start + EXCERPT_WORDS);
  return excerpt(all, start, end, hits, from, to);
}

function relative(url) {
  // Pagefind's URLs start at the site root ("/a/<id>/"); Material resolves locations
  // against the site's base, wherever the site is hosted.
  return url.replace(/^\/+/, "");
}

// Material's items of one page: the page itself, then the paragraphs holding hits.
function items(data, score) {
  var all = words(data.content);
  var hits = new Set(data.locations);
  var terms = {};
  hits.forEach(function (i) {
    var word = bare(all[i] || "");
    if (word) terms[word] = true;
  });
  var title = data.meta.title || data.url;
  if (data.meta.version) title += " · " + data.meta.version;
  var page = relative(data.url);
  var paragraphs = (data.anchors || [])
    .filter(function (a) {
      return /^p\d+$/.test(a.id);
    })
    .sort(function (a, b) {
      return a.location - b.location;
    });
  var sections = [];
  paragraphs.forEach(function (anchor, n) {
    var to = n + 1 < paragraphs.length ? paragraphs[n + 1].location : all.length;
    var count = 0;
    hits.forEach(function (i) {
      if (i >= anchor.location && i < to) count++;
    });
    if (count) {
      sections.push({
        location: page + "#" + anchor.id,
        title: "Paragraph " + anchor.id.slice(1),
        text: around(all, hits, anchor.location, to),
        count: count,
      });
    }
  });
  // The two paragraphs with the most hits are shown; the others fold under "N more".
  var best = sections
    .slice()
    .sort(function (a, b) {
      return b.count - a.count;
    })
    .slice(0, 2);
  // The page's own excerpt is of its text, not of the title and ID that open it.
  var text = paragraphs.length ? paragraphs[0].location : 0;
  var result = [
    {
      location: page,
      title: escapeHTML(title),
      text: around(all, hits, text, all.length),
      score: score,
      terms: terms,
    },
  ];
  sections.forEach(function (section) {
    result.push({
      location: section.location,
      title: section.title,
      text: section.text,
      score: best.indexOf(section) >= 0 ? score : score / 2,
      terms: terms,
    });
  });
  return result;
}

function search(query, ticket) {
  return loadPagefind()
    .then(function (module) {
      return module.search(query);
    })
    .then(function (found) {
      if (ticket !== latest) return null;
      var top = found.results.slice(0, SHOWN);
      return Promise.all(
        top.map(function (result) {
          return result.data().then(function (data) {
            return items(data, result.score);
          });
        })
      ).then(function (pages) {
        return { pages: pages, total: found.results.length };
      });
    });
}

self.addEventListener("message", function (event) {
  var message = event.data;
  if (message.type === SETUP) {
    // Pagefind is loaded on the first query, not on every page view.
    self.postMessage({ type: READY });
    return;
  }
  if (message.type !== QUERY) return;
  var query = String(message.data || "").trim();
  var ticket = ++latest;
  if (!query) {
    self.postMessage({ type: RESULT, data: { items: [] } });
    return;
  }
  // While the reader types on: Pagefind's code, and the part of the index for the words
  // typed so far (preload fetches, it does not rank), as Pagefind's own UI does. Not for
  // one or two letters, whose prefix spans much of the index.
  loadPagefind()
    .then(function (module) {
      if (ticket === latest && query.length >= PRELOAD_FROM) return module.preload(query);
    })
    .catch(function () {}); // a failure is reported by the search itself
  setTimeout(function () {
    if (ticket !== latest) return; // a newer key came: this query is stale
    search(query, ticket).then(
      function (found) {
        if (!found || ticket !== latest) return;
        // The list first, then its count: the count line names the query whose results
        // Material was given (a count sent first could name the list still to come).
        self.postMessage({ type: RESULT, data: { items: found.pages } });
        if (channel) channel.postMessage({ query: query, total: found.total, shown: found.pages.length });
      },
      function (error) {
        console.error("Search is not available (was the Pagefind index built?):", error);
        if (channel) channel.postMessage({ query: query, error: true });
        if (ticket === latest) self.postMessage({ type: RESULT, data: { items: [] } });
      }
    );
  }, DEBOUNCE_MS);
});
