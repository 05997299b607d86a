"""One pagination for every list endpoint: ``?page=N&page_size=M`` → ``{"count", "page", "results"}``."""

from typing import Any

from ninja import Schema
from ninja.pagination import PaginationBase

from .errors import InvalidInput

MAX_PAGE = 1_000_000  # far past any list's end, and (page - 1) * page_size stays within a 64-bit OFFSET


class PageNumber(PaginationBase):
    class Input(Schema):
        page: int = 1
        page_size: int = 50

    class Output(Schema):
        count: int
        page: int
        page_size: int
        results: list[Any]

    items_attribute = "results"
    max_page_size = 500

    def paginate_queryset(self, queryset, pagination: Input, **params):
        if not 1 <= pagination.page <= MAX_PAGE or not 1 <= pagination.page_size <= self.max_page_size:
            raise InvalidInput("分页参数无效", code="invalid_page",
                               detail={"page": pagination.page, "page_size": pagination.page_size})
        start = (pagination.page - 1) * pagination.page_size
        return {
            "count": self._items_count(queryset),
            "page": pagination.page,
            "page_size": pagination.page_size,
            "results": list(queryset[start:start + pagination.page_size]),
        }
