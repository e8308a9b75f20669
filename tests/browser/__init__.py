"""The built site as readers use it: a real Chromium, the real served pages (issue 6).

A package, so that this folder's conftest.py is `browser.conftest` and does not take the
name `conftest` from tests/conftest.py, which the other test modules import by that name.
"""
