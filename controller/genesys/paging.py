"""Paging helpers for both listing styles of the API (docs/genesys-api.md#paging). Never a silent cap.

Page-number listings (`entities, pageNumber, pageCount, total`) are read page after page until
`pageCount` (or the first short/empty page when a listing omits it). Cursor listings
(`entities, nextUri`) are followed until there is no `nextUri`. A safety limit exists only to
stop a server that loops; reaching it raises PagingError rather than returning a partial list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_PAGES = 100_000


class PagingError(RuntimeError):
    pass


def next_page_number(listing: Mapping[str, Any], requested: int, page_size: int) -> int | None:
    """The page to fetch after `listing` (which answered page `requested`), or None when done."""
    entities = listing.get("entities") or []
    page_count = listing.get("pageCount")
    if isinstance(page_count, int):
        return requested + 1 if requested < page_count else None
    total = listing.get("total")
    if isinstance(total, int):
        return requested + 1 if requested * page_size < total and entities else None
    if listing.get("nextUri"):
        return requested + 1
    return requested + 1 if len(entities) >= page_size else None


def next_cursor(listing: Mapping[str, Any]) -> str | None:
    """The `after` cursor from a cursor listing's nextUri (or `cursor`/`after` fields), None when done."""
    next_uri = listing.get("nextUri")
    if next_uri:
        after = parse_qs(urlsplit(str(next_uri)).query).get("after")
        if after:
            return after[0]
        raise PagingError(f"nextUri without an 'after' cursor: {next_uri}")
    cursor = listing.get("cursor") or listing.get("after")
    return str(cursor) if cursor else None


def iter_page_numbers(
    fetch: Callable[[int, int], Mapping[str, Any]], page_size: int = 100, max_pages: int = MAX_PAGES
) -> Iterator[dict[str, Any]]:
    """Yield every entity; `fetch(page_number, page_size)` returns one listing."""
    page: int | None = 1
    fetched = 0
    while page is not None:
        if fetched >= max_pages:
            raise PagingError(f"more than {max_pages} pages; refusing to return a truncated list")
        listing = fetch(page, page_size)
        fetched += 1
        yield from listing.get("entities") or []
        page = next_page_number(listing, page, page_size)


def iter_cursor(
    fetch: Callable[[str | None], Mapping[str, Any]], max_pages: int = MAX_PAGES
) -> Iterator[dict[str, Any]]:
    """Yield every entity; `fetch(after)` returns one listing (after=None for the first page)."""
    after: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        listing = fetch(after)
        yield from listing.get("entities") or []
        after = next_cursor(listing)
        if after is None:
            return
        if after in seen:
            raise PagingError(f"cursor {after!r} repeated; the listing loops")
        seen.add(after)
    raise PagingError(f"more than {max_pages} pages; refusing to return a truncated list")
