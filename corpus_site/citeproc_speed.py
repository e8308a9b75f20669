"""Exact speed-ups of citeproc-py: what it recomputes for every item, computed once.

citeproc-py walks the whole style tree for every bibliography entry and asks the same
questions of elements that never change once parsed. Three layers make that cheap without
changing what it prints:

1. Static look-ups (XPath queries, macros, terms, locale options, whether a subtree calls
   a variable, whether an element has any formatting) are cached per element of a
   prepared style: each answer depends only on the parsed style tree.
2. Which branch of a cs:choose applies, and
3. what a style subtree renders to
   are memoized by exactly what they read. While an entry renders, every read of its
   reference is logged (a test of presence as a test, a read of a value with the value);
   a result is stored in a trie under the sequence of reads that produced it, beside the
   other inputs of the call (the element, its arguments, the layout's repressed
   variables) and the repressed variables it leaves behind. citeproc-py's rendering is a
   deterministic function of those inputs, so an item that answers the same questions the
   same way gets the same result: the trie is walked by asking the new item each question
   in turn, and the first different answer is a miss that renders for real.

What the log does not see is kept out: the memo runs only inside render_bibliography of a
prepared style, with the plain formatter, for items without locator, prefix or suffix,
and never over subtrees that use the citation number or copy attributes into the locale
(a localized cs:date with cs:date-part children). `original()` runs unpatched code;
tests/test_cite.py compares the two over generated items.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterator
from typing import Any

# The citeproc-py release whose internals these patches were checked against (which
# inputs each method reads, If.render's conditions): any other release runs unpatched.
CHECKED_CITEPROC = "0.11.1"

# A call site (element and arguments) that has missed this often with fewer than one hit
# per HOPELESS_RATIO misses reads something unique per item (the title, the URL): its
# renders stop being stored, which saves the memory and the bookkeeping. Its children
# are still memoized. Swept 32-1024 on 2,000 items: CPU time is flat from 64 up.
HOPELESS_AFTER = 128
HOPELESS_RATIO = 8

_MISSING = object()  # the value of a variable the item does not have
# Read without being logged: every call is memoized per "shape" of item (which variables
# it has, its type and language), so these answers are known before the walk begins.
_IN_SHAPE = ("type", "language")
_CIRCA = object()  # (_CIRCA, variable): the question "is this date uncertain?"
_POISON = (object(), None)  # logged by a read the log cannot describe: nothing is stored


class NondeterministicRender(RuntimeError):
    """A memoized call read something else after the same reads: should never happen."""


class _Leaf:
    """A computed call: its result or the exception it raised, and the repressed state after."""

    __slots__ = ("error", "repressed", "result")

    def __init__(self, result: Any, error: type[BaseException] | None, repressed: Any) -> None:
        self.result = result
        self.error = error
        self.repressed = repressed


class _Branch:
    """A point in a trie where the call read `question`: one child per answer seen."""

    __slots__ = ("children", "question")

    def __init__(self, question: Any) -> None:
        self.question = question
        self.children: dict[Any, _Branch | _Leaf] = {}


class _Site:
    """One memoized call site (an element and its arguments): its trie and hit counts."""

    __slots__ = ("hits", "misses", "retired", "tries")

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0
        self.retired = False
        self.tries: dict[Any, _Branch | _Leaf] = {}  # (repressed state, item shape) -> trie


class _Entry:
    """The bibliography entry being rendered: its item, logged reference and read log."""

    __slots__ = (
        "answers",
        "circa",
        "item",
        "layout",
        "log",
        "reference",
        "repressed_state",
        "shape",
    )

    def __init__(self, layout: Any, item: Any, reference: Any) -> None:
        self.layout = layout
        self.item = item
        self.log: list[tuple[Any, Any]] = []
        values = {
            variable: _freeze(dict.__getitem__(reference, variable)) for variable in reference
        }
        # What an item answers without being asked: a test of presence, a read of a
        # variable it lacks, its type and language. Calls are memoized per shape.
        self.shape = (tuple(sorted(values)), *(values.get(v) for v in _IN_SHAPE))
        for variable in _IN_SHAPE:
            values.pop(variable, None)
        # The logged questions: a read of a variable the item has, answered by its value.
        self.answers = values
        self.circa: dict[str, Any] = {}
        self.reference = _logged(reference, self)
        # (the layout's repressed dict, its frozen copy): computed again after a change.
        self.repressed_state: tuple[Any, Any] | None = None

    def answer(self, question: tuple[Any, str]) -> Any:
        """The answer to a question asked of a value rather than the value itself:
        (_CIRCA, variable) is what If._is_uncertain_date sees, else _MISSING when the
        item lacks the variable (the shape says so, no need to log it)."""
        variable = question[1]
        try:
            value = dict.__getitem__(self.reference, variable)
        except KeyError:
            circa: Any = False  # citeproc-py: VariableError -> False
            answer = _MISSING
        else:
            try:
                circa = value.get("circa", False)
            except AttributeError:
                circa = False
            try:
                answer = _freeze(circa)
            except _Unfreezable:
                answer = _POISON  # matches no stored answer, and stops storing
        self.circa[variable] = circa
        self.answers[question] = answer
        return answer

    def repressed(self) -> Any:
        """The layout's repressed variables (cs:substitute sets them), hashable."""
        state = self.layout.repressed
        cached = self.repressed_state
        if cached is not None and cached[0] is state:
            return cached[1]
        frozen = tuple((tag, tuple(variables)) for tag, variables in state.items())
        self.repressed_state = (state, frozen)
        return frozen


_ACTIVE: _Entry | None = None  # the entry whose calls are memoized
_BIBLIOGRAPHY: Any = None  # the layout whose render_bibliography is running
_STYLE: set[Any] = set()  # elements of prepared styles (their attributes never change)
_FIXED: set[Any] = set()  # elements whose attributes never change: _STYLE, and locales
_PREPARED: set[Any] = set()  # those and the elements of their locales
_MEMOIZABLE: set[Any] = set()  # style elements whose renders the log fully describes
_PLAIN: set[Any] = set()  # elements whose markup leaves a text as it is (_plain_markup)
_LAYOUTS: set[Any] = set()  # bibliography layouts of prepared styles
_SITES: dict[Any, _Site] = {}
_ORIGINALS: dict[tuple[type, str], Any] = {}  # (class, attribute) -> unpatched value
_ABSENT = object()  # an attribute the class did not define itself


def prepare(style: Any) -> None:
    """Make renders of this CitationStylesStyle fast; what they give stays the same."""
    import citeproc

    if citeproc.__version__ != CHECKED_CITEPROC:
        return
    _install()
    root = style.root
    elements = list(root.iter())
    _STYLE.update(elements)
    _PREPARED.update(elements)
    # Elements are kept alive by these sets, so lxml gives the same Python object for a
    # node every time and the caches keyed by element never see a reused one.
    locales = [e for locale in root.locales for e in locale.iter()]
    _PREPARED.update(locales)
    _FIXED.update(elements)
    if not _copies_into_locale(root):
        _FIXED.update(locales)
    _MEMOIZABLE.update(_memoizable(root))
    _PLAIN.update(e for e in _FIXED.intersection(elements + locales) if _plain_markup(e))
    bibliography = root.bibliography
    if bibliography is not None and bibliography.layout is not None:
        _LAYOUTS.add(bibliography.layout)


@contextlib.contextmanager
def original(keep: Collection[str] = ()) -> Iterator[None]:
    """Run citeproc-py unpatched inside the block (to compare with, or to time), but for
    the patched methods named in `keep` (such as "xpath_search")."""
    patched = {key: _get(*key) for key in _ORIGINALS if key[1] not in keep}
    for (cls, name), value in _ORIGINALS.items():
        if name not in keep:
            _set(cls, name, value)
    try:
        yield
    finally:
        for (cls, name), value in patched.items():
            _set(cls, name, value)


def counts() -> tuple[int, int]:
    """How many memoized calls were recalled and how many computed, so far."""
    return sum(s.hits for s in _SITES.values()), sum(s.misses for s in _SITES.values())


def clear() -> None:
    """Forget every memoized call (static look-ups stay: they cannot go stale)."""
    _SITES.clear()


def _get(cls: type, name: str) -> Any:
    """The attribute as the class itself defines it, else _ABSENT."""
    return cls.__dict__.get(name, _ABSENT)


def _set(cls: type, name: str, value: Any) -> None:
    """Define (or, for _ABSENT, remove) an attribute of the class itself."""
    if value is _ABSENT:
        if name in cls.__dict__:
            delattr(cls, name)
    else:
        setattr(cls, name, value)


def _patch(cls: type, name: str, value: Any) -> None:
    """Replace a class attribute, keeping the original for original()."""
    _ORIGINALS.setdefault((cls, name), _get(cls, name))
    setattr(cls, name, value)


def _install() -> None:
    """Patch citeproc-py's classes (once)."""
    from citeproc import model, source
    from citeproc.formatter import plain

    if _ORIGINALS:
        return
    _patch_static_lookups(model)

    reference = source.CitationItem.reference.fget

    def logged_reference(self: Any) -> Any:
        entry = _ACTIVE
        if entry is not None and self is entry.item:
            return entry.reference
        return reference(self)

    _patch(source.CitationItem, "reference", property(logged_reference))

    render_bibliography = model.Layout.render_bibliography

    def render_children(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
        return model.Parent.render_children(self, item, *args, **kwargs)

    def layout_render_bibliography(self: Any, citation_items: Any) -> Any:
        global _BIBLIOGRAPHY
        outer, _BIBLIOGRAPHY = _BIBLIOGRAPHY, self
        try:
            return render_bibliography(self, citation_items)
        finally:
            _BIBLIOGRAPHY = outer

    def layout_render_children(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
        global _ACTIVE
        if (
            self is not _BIBLIOGRAPHY
            or self not in _LAYOUTS
            or args
            or kwargs
            or _ACTIVE is not None
            or self.get_formatter() is not plain  # other formatters: results not checked
            # A locator, prefix or suffix is read from the item, not through the log;
            # without them every read of the item gives the same answer for all items.
            or not set(item) <= {"key", "citation"}
        ):
            return render_children(self, item, *args, **kwargs)
        try:
            entry = _Entry(self, item, reference(item))
        except _Unfreezable:
            return render_children(self, item)
        _ACTIVE = entry
        try:
            return render_children(self, item)
        finally:
            _ACTIVE = None

    _patch(model.Layout, "render_bibliography", layout_render_bibliography)

    add_to_repressed_list = model.Substitute.add_to_repressed_list

    def substitute_represses(self: Any, child: Any, context: Any) -> None:
        # The only change citeproc-py makes to a repressed dict: forget its frozen copy.
        if _ACTIVE is not None:
            _ACTIVE.repressed_state = None
        add_to_repressed_list(self, child, context)

    _patch(model.Substitute, "add_to_repressed_list", substitute_represses)
    _patch(model.Layout, "render_children", layout_render_children)

    errors = (source.VariableError, model.ConditionFailed)
    _patch(model.Choose, "render", _choose_render(model, errors))
    for cls in (model.Group, model.Choose, model.Text, model.Names, model.Date, model.Number):
        _patch(cls, "render", _memoized_render(cls.render, errors))


def _memoized_render(render: Callable[..., Any], errors: tuple[type[BaseException], ...]) -> Any:
    """A render method that looks its result up in a trie before computing it."""

    def memoized_render(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
        entry = _ACTIVE
        if entry is None or item is not entry.item or self not in _MEMOIZABLE:
            return render(self, item, *args, **kwargs)
        key = (self, args, tuple(kwargs.items()))
        try:
            site = _SITES.get(key)
        except TypeError:  # an argument that cannot be a key (sort options): not memoized
            return render(self, item, *args, **kwargs)
        if site is None:
            site = _SITES[key] = _Site()
        elif site.retired:
            return render(self, item, *args, **kwargs)
        return _recall(entry, site, entry.repressed(), errors, render, self, item, args, kwargs)

    return memoized_render


def _choose_render(model: Any, errors: tuple[type[BaseException], ...]) -> Any:
    """cs:choose rendering with the branch choice memoized (the branches render as before)."""
    render = model.Choose.render
    conditional = (model.If, model.Else)  # Else_If is an If

    def select(self: Any, item: Any, context: Any) -> Any:
        for child in self.iterchildren():
            if isinstance(child, model.Else) or _condition(model, child, item, context):
                return child
        return None

    def choose_render(
        self: Any, item: Any, context: Any = None, delimiter: str = "", **kwargs: Any
    ) -> Any:
        entry = _ACTIVE
        if entry is None or item is not entry.item or self not in _MEMOIZABLE:
            return render(self, item, context=context, delimiter=delimiter, **kwargs)
        key = (select, self, context)
        site = _SITES.get(key)
        if site is None:
            if not all(isinstance(child, conditional) for child in self.iterchildren()):
                return render(self, item, context=context, delimiter=delimiter, **kwargs)
            site = _SITES[key] = _Site()
        branch = _recall(entry, site, (), errors, select, self, item, (context,), {})
        if branch is None:
            return None
        # What If.render and Else.render do once their condition holds.
        return branch.render_children(item, context=context, delimiter=delimiter, **kwargs)

    return choose_render


def _condition(model: Any, element: Any, item: Any, context: Any) -> bool:
    """Whether a cs:if or cs:else-if holds: the tests of citeproc-py's If.render."""
    results: list[Any] = []
    attrib = element.attrib
    if "type" in attrib:
        results += element._type(item)
    if "variable" in attrib:
        results += element._variable(item)
    if "is-numeric" in attrib:
        results += element._is_numeric(item)
    if "is-uncertain-date" in attrib:
        results += _is_uncertain_date(element, item)
    if "locator" in attrib:
        results += element._locator(item)
    if "position" in attrib:
        where = element if context is None else context
        if not where.xpath_search("./ancestor::*[self::cs:bibliography]"):
            # Outside a bibliography the position depends on earlier citations.
            _ACTIVE.log.append(_POISON)  # type: ignore[union-attr]
        results += element._position(item, context)
    match = element.get("match")
    if match == "any":
        return any(results)
    if match == "none":
        return not any(results)
    return all(results)


def _is_uncertain_date(element: Any, item: Any) -> list[Any]:
    """If._is_uncertain_date, logging only the `circa` of each date it reads."""
    entry = _ACTIVE
    if entry is None or item is not entry.item:
        return element._is_uncertain_date(item)
    result = []
    for date in element.get("is-uncertain-date").split():
        question = (_CIRCA, date.replace("-", "_"))
        answer = entry.answer(question)
        if answer is _POISON:
            entry.log.append(_POISON)
        elif answer is not _MISSING:
            entry.log.append((question, answer))
        result.append(entry.circa[question[1]])
    return result


def _recall(
    entry: _Entry,
    site: _Site,
    repressed: Any,
    errors: tuple[type[BaseException], ...],
    compute: Callable[..., Any],
    element: Any,
    item: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """compute(element, item, *args, **kwargs), from the site's trie when it holds it."""
    log = entry.log
    start = len(log)
    state = (repressed, entry.shape)
    node = site.tries.get(state)
    answers = entry.answers
    while type(node) is _Branch:
        question = node.question
        answer = answers.get(question, _MISSING)
        if answer is _MISSING:
            answer = entry.answer(question)
        log.append((question, answer))
        node = node.children.get(answer)
    if node is not None:
        site.hits += 1
        if node.repressed is not None:
            _restore_repressed(entry, node.repressed)
        if node.error is not None:
            raise node.error()
        return node.result
    site.misses += 1
    if site.misses > HOPELESS_AFTER and site.hits * HOPELESS_RATIO < site.misses:
        site.retired = True
        site.tries.clear()
    try:
        result = compute(element, item, *args, **kwargs)
    except errors as error:
        if not site.retired:
            _store(entry, site, state, start, _Leaf(None, type(error), _after(entry, repressed)))
        raise
    if not site.retired:
        _store(entry, site, state, start, _Leaf(result, None, _after(entry, repressed)))
    return result


def _after(entry: _Entry, before: Any) -> Any:
    """The repressed state after a call, or None when the call left it unchanged."""
    after = entry.repressed()
    return None if after == before else after


def _store(entry: _Entry, site: _Site, state: Any, start: int, leaf: _Leaf) -> None:
    """Put a computed call into the site's trie, under the reads it made (first ones)."""
    path: list[tuple[Any, Any]] = []
    seen: set[Any] = set()
    for read in entry.log[start:]:
        if read is _POISON:
            return
        if read[0] not in seen:
            seen.add(read[0])
            path.append(read)
    node = site.tries.get(state)
    if node is None:
        site.tries[state] = _chain(path, leaf)
        return
    for i, (question, answer) in enumerate(path):
        if type(node) is not _Branch or node.question != question:
            raise NondeterministicRender(f"asked {question!r} out of turn")
        child = node.children.get(answer)
        if child is None:
            node.children[answer] = _chain(path[i + 1 :], leaf)
            return
        node = child
    raise NondeterministicRender("a stored call was computed again")


def _chain(path: list[tuple[Any, Any]], leaf: _Leaf) -> _Branch | _Leaf:
    """A trie holding one path."""
    node: _Branch | _Leaf = leaf
    for question, answer in reversed(path):
        branch = _Branch(question)
        branch.children[answer] = node
        node = branch
    return node


def _restore_repressed(entry: _Entry, state: tuple[Any, ...]) -> None:
    """Give the layout's repressed variables a remembered state, in place."""
    repressed = entry.layout.repressed
    repressed.clear()
    repressed.update((tag, list(variables)) for tag, variables in state)
    entry.repressed_state = (repressed, state)


class _Unfreezable(TypeError):
    """A reference value of a kind the log cannot compare."""


def _freeze(value: Any) -> Any:
    """A hashable copy of a reference value that keeps every type (String, NoCase, Date)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return (kind, value)
    if isinstance(value, str) and not value.__dict__:
        return (kind, str(value))
    if isinstance(value, dict):
        if value.__dict__:
            raise _Unfreezable(kind.__name__)
        return (kind, tuple((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple) and not getattr(value, "__dict__", None):
        return (kind, tuple(_freeze(v) for v in value))
    raise _Unfreezable(kind.__name__)


def _logged(reference: Any, entry: _Entry) -> Any:
    """A copy of the reference whose reads are logged into the entry."""
    if reference.__dict__:
        raise _Unfreezable("reference attributes")
    copy = dict.__new__(_logged_class(type(reference)))
    dict.update(copy, reference)
    object.__setattr__(copy, "_entry", entry)
    return copy


_LOGGED: dict[type, type] = {}


def _logged_class(base: type) -> type:
    """The subclass of a Reference class whose reads are logged."""
    try:
        return _LOGGED[base]
    except KeyError:
        pass

    def getitem(self: Any, variable: Any) -> Any:
        entry = self._entry
        answer = entry.answers.get(variable)
        if answer is not None:
            entry.log.append((variable, answer))
        return base.__getitem__(self, variable)

    def get(self: Any, variable: Any, default: Any = None) -> Any:
        entry = self._entry
        answer = entry.answers.get(variable)
        if answer is not None:
            entry.log.append((variable, answer))
        return dict.get(self, variable, default)

    def unlogged(name: str) -> Callable[..., Any]:
        method = getattr(dict, name)

        def read_all(self: Any, *args: Any, **kwargs: Any) -> Any:
            self._entry.log.append(_POISON)
            return method(self, *args, **kwargs)

        return read_all

    # A test of presence (`variable in reference`) is answered by the shape: not logged.
    namespace: dict[str, Any] = {"__getitem__": getitem, "get": get}
    for name in ("__iter__", "__len__", "keys", "values", "items", "copy", "__eq__", "__ne__"):
        namespace[name] = unlogged(name)
    namespace["__hash__"] = None
    cls = _LOGGED[base] = type(f"Logged{base.__name__}", (base,), namespace)
    return cls


def _copies_into_locale(root: Any) -> bool:
    """Whether rendering changes the locale: a localized cs:date with cs:date-part children
    (Date_Part.process copies their attributes into the locale's cs:date-part)."""
    from citeproc import model

    return any(
        isinstance(e, model.Date) and e.get("form") is not None and len(e) for e in root.iter()
    )


def _plain_markup(element: Any) -> bool:
    """Whether the element's markup() gives back a (String or MixedString) text unchanged:
    no affixes, formatting, quotes, text case or stripped periods."""
    if any(name in element.attrib for name in _FORMATTING):
        return False
    if element.get("prefix", "") != "" or element.get("suffix", "") != "":
        return False
    if element.get("text-case") is not None:
        return False
    if element.get("strip-periods", "false").lower() == "true":
        return False
    if element.get("quotes", "false").lower() == "true":
        return False
    # Text.markup calls quote(), which lowers this option: it must be a string.
    return isinstance(element.get_locale_option("punctuation-in-quote"), str)


def _memoizable(root: Any) -> set[Any]:
    """The style's elements whose renders depend only on what the log records.

    Left out, with every element above them: the citation number (its value depends on the
    other entries of the bibliography), and a localized cs:date with cs:date-part children
    (citeproc-py copies their attributes into the locale's date, a change the memo would
    skip).
    """
    from citeproc import model

    macros = {m.get("name"): m for m in root.findall("cs:macro", model.CitationStylesElement.nsmap)}
    safe: dict[Any, bool] = {}

    def is_safe(element: Any, visiting: frozenset[Any]) -> bool:
        if element in safe:
            return safe[element]
        if element in visiting:  # a macro that calls itself: left to the unpatched code
            return False
        visiting = visiting | {element}
        ok = element.get("variable") != "citation-number"
        if isinstance(element, model.Text) and element.get("macro") is not None:
            target = macros.get(element.get("macro"))
            ok = ok and target is not None and is_safe(target, visiting)
        if isinstance(element, model.Date) and element.get("form") is not None and len(element):
            ok = False
        for child in element:
            ok = is_safe(child, visiting) and ok
        safe[element] = ok
        return ok

    for element in root.iter():
        is_safe(element, frozenset())
    classes = (model.Group, model.Choose, model.Text, model.Names, model.Date, model.Number)
    return {e for e, ok in safe.items() if ok and isinstance(e, classes)}


# Formatting attributes: an element with none of them formats text unchanged.
_FORMATTING = ("font-style", "font-variant", "font-weight", "text-decoration", "vertical-align")


def _patch_static_lookups(model: Any) -> None:
    """Cache answers that depend only on the (never changing) style tree."""

    def cached(
        cls: type,
        name: str,
        key: Callable[..., Any],
        only: set[Any],
        unless: Callable[..., bool] | None = None,
    ) -> None:
        method = cls.__dict__[name]
        cache: dict[Any, Any] = {}

        def lookup(self: Any, *args: Any, **kwargs: Any) -> Any:
            k = key(self, *args, **kwargs)
            try:
                return cache[k]
            except KeyError:
                pass
            result = method(self, *args, **kwargs)
            if self in only and not (unless and unless(self, *args, **kwargs)):
                cache[k] = result
            return result

        lookup.original = method  # type: ignore[attr-defined]
        _patch(cls, name, lookup)

    element = model.CitationStylesElement
    # A child element by tag (style.root.bibliography: 120 µs on the APA root). The only
    # child citeproc-py ever adds is the cs:name of a cs:names without one, so that one
    # question is not cached. Attributes set on an element shadow this look-up anyway.
    cached(
        model.SomewhatObjectifiedElement,
        "__getattr__",
        lambda self, name: (self, name),
        _PREPARED,
        unless=lambda self, name: name == "name" and isinstance(self, model.Names),
    )
    # An XPath query, a macro, the root: the tree of a prepared style never changes
    # shape (citeproc-py only ever adds a cs:name to a cs:names without one, which none
    # of these queries see).
    cached(element, "xpath_search", lambda self, expression: (self, expression), _PREPARED)
    cached(element, "get_macro", lambda self, name: (self, name), _PREPARED)
    cached(element, "get_root", lambda self: self, _PREPARED)
    # Terms and locale options: the locales of a style are fixed when it is parsed.
    cached(
        element,
        "get_term",
        lambda self, name, form=None, fallback_locale=True, zero_padded=False: (
            self.get_root(),
            name,
            form,
            fallback_locale,
            zero_padded,
        ),
        _PREPARED,
    )
    cached(element, "get_locale_option", lambda self, name: (self.get_root(), name), _PREPARED)
    # Whether a subtree calls a variable: its elements and attributes never change.
    cached(model.Parent, "calls_variable", lambda self: self, _STYLE)
    cached(model.Text, "calls_variable", lambda self: self, _STYLE)

    format_text = model.Formatted.format
    unformatted: dict[Any, bool] = {}

    def format(self: Any, string: Any) -> Any:
        plain = unformatted.get(self)
        if plain is None:
            plain = not any(name in self.attrib for name in _FORMATTING)
            if self in _STYLE:
                unformatted[self] = plain
        if not plain:
            return format_text(self, string)
        # What Formatted.format does when every formatting attribute is absent.
        return str(string) if isinstance(string, int | float) else string

    format.original = format_text  # type: ignore[attr-defined]
    _patch(model.Formatted, "format", format)
    _patch_markup(model)
    _patch_terms(model)
    _patch_name_options(model)
    _patch_formatter(model)
    _patch_walks(model)


def _texts() -> tuple[type, ...]:
    """The text types that Affixed.wrap gives back unchanged when there are no affixes:
    "" + text and text + "" return text itself (String and MixedString discard an empty
    operand, str returns the other operand)."""
    from citeproc.string import MixedString, NoCase, String

    return (str, String, NoCase, MixedString)


def _patch_markup(model: Any) -> None:
    """markup() and wrap() of an element without affixes or formatting: the text itself."""
    texts = _texts()
    for cls in (
        model.Text,
        model.Date_Part,
        model.Number,
        model.Names,
        model.Name,
        model.Et_Al,
        model.Label,
        model.Group,
    ):
        markup = cls.__dict__["markup"]

        def plain_markup(self: Any, text: Any, *args: Any, _markup: Any = markup) -> Any:
            # Every one of these markups starts `if text: ... else: return None`.
            if not text:
                return None
            if type(text) in texts and self in _PLAIN:
                return text
            return _markup(self, text, *args)

        plain_markup.original = markup  # type: ignore[attr-defined]
        _patch(cls, "markup", plain_markup)

    wrap = model.Affixed.wrap
    bare: dict[Any, bool] = {}

    def plain_wrap(self: Any, string: Any) -> Any:
        if string is None:
            return None
        plain = bare.get(self)
        if plain is None:
            plain = self.get("prefix", "") == "" and self.get("suffix", "") == ""
            if self in _FIXED:
                bare[self] = plain
        if plain and type(string) in texts:
            return string
        return wrap(self, string)

    plain_wrap.original = wrap  # type: ignore[attr-defined]
    _patch(model.Affixed, "wrap", plain_wrap)


def _patch_terms(model: Any) -> None:
    """Term.single and Term.multiple: the term's text is looked up once."""
    from citeproc.string import String

    for name, child in (("single", "cs:single"), ("multiple", "cs:multiple")):
        texts: dict[Any, Any] = {}

        def term(self: Any, _child: str = child, _texts: dict[Any, Any] = texts) -> Any:
            try:
                text = _texts[self]
            except KeyError:
                # What the property does before preformatting (the formatter can change).
                try:
                    text = self.find(_child, self.nsmap).text
                except AttributeError:
                    text = self.text
                if self in _PREPARED:
                    _texts[self] = text
            return String(self.preformat(text or ""))

        _patch(model.Term, name, property(term))


def _patch_name_options(model: Any) -> None:
    """Name.get_option outside sorting: a function of the element, option and context."""
    get_option = model.Name.get_option
    options: dict[Any, Any] = {}

    def name_option(self: Any, name: str, context: Any = None, sort_options: Any = None) -> Any:
        if sort_options is not None or self not in _STYLE:
            return get_option(self, name, context, sort_options)
        key = (self, name, context)
        try:
            return options[key]
        except KeyError:
            value = options[key] = get_option(self, name, context, None)
            return value

    name_option.original = get_option  # type: ignore[attr-defined]
    _patch(model.Name, "get_option", name_option)


def _patch_walks(model: Any) -> None:
    """Group.process and Parent.render_children over a list of children made once.

    The code is citeproc-py's, with what it asks of each child (calls_variable(), whether
    it is a cs:choose) answered in advance. Only style elements other than cs:names: their
    children never change.
    """
    from citeproc.source import VariableError

    process = model.Group.process
    groups: dict[Any, Any] = {}

    def group_process(self: Any, item: Any, context: Any = None, **kwargs: Any) -> Any:
        plan = groups.get(self)
        if plan is None:
            if self not in _STYLE:
                return process(self, item, context=context, **kwargs)
            plan = groups[self] = tuple(
                (child, child.calls_variable(), isinstance(child, model.Choose))
                for child in self.iterchildren()
            )
        output = []
        variable_called = False
        variable_rendered = False
        delimiter = self.get("delimiter", "")
        for child, calls_variable, is_choose in plan:
            variable_called = variable_called or calls_variable
            try:
                if is_choose:
                    child_text = child.render(item, context=context, delimiter=delimiter, **kwargs)
                else:
                    child_text = child.render(item, context=context, **kwargs)
                if child_text is not None:
                    output.append(child_text)
                    variable_rendered = variable_rendered or calls_variable
            except VariableError:
                pass
        success = not variable_called or (variable_called and variable_rendered)
        if output and success:
            return self.join(output)
        raise VariableError

    group_process.original = process  # type: ignore[attr-defined]
    _patch(model.Group, "process", group_process)

    render_children = model.Parent.render_children
    parents: dict[Any, Any] = {}

    def parent_render_children(self: Any, item: Any, delimiter: str = "", **kwargs: Any) -> Any:
        children = parents.get(self)
        if children is None:
            if self not in _STYLE or isinstance(self, model.Names):
                return render_children(self, item, delimiter=delimiter, **kwargs)
            children = parents[self] = tuple(
                (child, isinstance(child, model.Choose)) for child in self.iterchildren()
            )
        output = []
        for child, is_choose in children:
            try:
                if is_choose:
                    text = child.render(item, delimiter=delimiter, **kwargs)
                else:
                    text = child.render(item, **kwargs)
                if text is not None:
                    output.append(text)
            except VariableError:
                pass
        if output:
            return model.join(output, delimiter)
        return None

    parent_render_children.original = render_children  # type: ignore[attr-defined]
    _patch(model.Parent, "render_children", parent_render_children)


def _patch_formatter(model: Any) -> None:
    """get_formatter: which object holds the formatter is fixed; the formatter is not."""
    holders: dict[Any, Any] = {}
    get_formatter = model.CitationStylesElement.get_formatter

    def formatter(self: Any) -> Any:
        try:
            return holders[self].formatter
        except KeyError:
            pass
        root = self.get_root()
        holder = root.style if isinstance(root, model.Locale) else root
        if self in _PREPARED:
            holders[self] = holder
        return holder.formatter

    formatter.original = get_formatter  # type: ignore[attr-defined]
    _patch(model.CitationStylesElement, "get_formatter", formatter)
