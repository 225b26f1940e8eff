from __future__ import annotations

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Cursors, not page numbers: a page stays right while drafts keep arriving."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class OldestFirstCursorPagination(IdCursorPagination):
    ordering = "id"  # the order of the grid
