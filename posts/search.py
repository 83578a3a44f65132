"""What a search term means, and the PostgreSQL full-text queries that answer it.

The syntax is the one web search engines taught everybody (PostgreSQL's
``websearch_to_tsquery``): words must all appear, ``or`` separates alternatives, a
leading ``-`` excludes a word or a quoted group, and quotes keep words together. Every
accepted form is answered from the GIN index on ``Post.search_vector`` without reading a
post's stored vector back, so a search costs about what its matches cost:

- A quoted phrase matches the posts that have all its words; the posts that have them
  side by side rank first. (Checking word positions means reading and decompressing the
  vector of every post that has the words, which for common words costs seconds on a
  large site: docs/performance.md.)
- At most ``MAX_SEARCH_WORDS`` words count; the rest of the term is ignored.
- An alternative that looks for nothing (``-draft``, the ``-dog`` of ``cat or -dog``)
  would match nearly every post by reading each one: such a search matches nothing.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery

SEARCH_CONFIG = "english"
MAX_SEARCH_WORDS = 8
MAX_SEARCH_LENGTH = 200

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Part:
    """Words that must all appear (or, ``excluded``, not all of them together)."""

    words: tuple[str, ...]
    excluded: bool = False


@dataclass(frozen=True)
class ParsedSearch:
    """A search term: alternatives, each a list of parts that must all hold."""

    alternatives: tuple[tuple[Part, ...], ...]

    @property
    def looks_for_something(self) -> bool:
        return any(any(not part.excluded for part in parts) for parts in self.alternatives)


def parse(raw: str) -> ParsedSearch:
    """Split ``raw`` into alternatives and parts, keeping at most ``MAX_SEARCH_WORDS`` words."""
    term = raw.strip()[:MAX_SEARCH_LENGTH]
    alternatives: list[tuple[Part, ...]] = []
    current: list[Part] = []
    budget = MAX_SEARCH_WORDS
    for match in _TOKEN.finditer(term):
        negation, quoted, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            if current:
                alternatives.append(tuple(current))
                current = []
            continue
        excluded = bool(negation) or (bare is not None and bare.startswith("-") and len(bare) > 1)
        words = _WORD.findall(quoted if quoted is not None else bare)[:budget]
        if not words:
            continue
        budget -= len(words)
        current.append(Part(words=tuple(words), excluded=excluded))
        if not budget:
            break
    if current:
        alternatives.append(tuple(current))
    return ParsedSearch(alternatives=tuple(alternatives))


def match_query(search: ParsedSearch) -> SearchQuery | None:
    """The query that selects the matches (``None``: nothing to look for). Only words,
    AND, OR and NOT: the index answers it exactly, with no post read back to check."""
    query = None
    for parts in search.alternatives:
        alternative = None
        for part in parts:
            words = SearchQuery(" ".join(part.words), search_type="plain", config=SEARCH_CONFIG)
            words = ~words if part.excluded else words
            alternative = words if alternative is None else alternative & words
        query = alternative if query is None else query | alternative
    return query


def rank_query(search: ParsedSearch) -> SearchQuery:
    """The query that ranks matches: quoted words side by side rank above the same words
    apart (ranking reads the vectors, so it is only applied to a bounded set of posts)."""
    text = " or ".join(
        " ".join(f'{"-" if part.excluded else ""}"{" ".join(part.words)}"' for part in parts)
        for parts in search.alternatives
    )
    return SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
