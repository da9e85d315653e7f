"""Parsing an open document against its previous version (parso's diff parser).

Re-parsing a whole file on every keystroke costs ~100 ms per 1,000 lines;
the diff parser re-parses only the changed region, a few milliseconds. It
updates the previous version's tree in place, so a tree built this way is
used by one thread only: the fast worker that checks the document. The jedi
pass and the model index parse their own copy.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import PurePosixPath
from urllib.parse import quote

import parso
from parso.cache import parser_cache
from parso.python.tree import Module

from fmperf_ls.analysis.source import SourceFile

logger = logging.getLogger(__name__)

_GRAMMAR = parso.load_grammar()
_NAMESPACE = "/fmperf-ls-documents"
"""Cache keys that cannot collide with the real paths jedi caches its own trees under."""


def cache_key(uri: str) -> PurePosixPath:
    return PurePosixPath(_NAMESPACE, quote(uri, safe=""))


class DocumentSource(SourceFile):
    """A SourceFile whose tree comes from the diff parser, keyed by the document's URI."""

    def __init__(self, text: str, path: str, version: int | None, uri: str):
        super().__init__(text, path, version)
        self.uri = uri

    @cached_property
    def tree(self) -> Module:
        key = cache_key(self.uri)
        try:
            return _GRAMMAR.parse(self.text, diff_cache=True, path=key, cache=False)
        except Exception:  # the diff parser is parso's least tested part: parse afresh
            logger.warning("incremental parse of %s failed; parsing it whole", self.uri)
            forget(self.uri)
            return _GRAMMAR.parse(self.text, error_recovery=True)


def forget(uri: str) -> None:
    """Drop the document's tree from parso's cache (on close), so memory stays bounded."""
    key = cache_key(uri)
    for trees in parser_cache.values():
        trees.pop(key, None)
