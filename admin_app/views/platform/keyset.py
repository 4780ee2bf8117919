"""Deep pages of a long list without `OFFSET`.

`OFFSET` reads and throws away every row before the page: page 1,000 of the appointments reads
50,000 rows to show 50. The pager's next and previous links carry instead the id of the row the
page they leave ends or starts on (`?page=8&after=123456`); that page is read from there, by the
index of the list's order. Other page numbers (a jump from the pager) are read with `OFFSET`, as
before, as is any sort the user chose.

Only the row's id is in the URL, never its sort values (a client's name). The row is read through
the view's own query, so a row the user may not see cannot anchor a page, and a row since deleted
falls back to `OFFSET`. The default order ends with the primary key, so that rows tied on the sort
(appointments starting at one instant) have one order for both ways of paging.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from flask import g, request

from admin_app.services.platform import bounds

AFTER_ARG = "after"
BEFORE_ARG = "before"


@dataclasses.dataclass(frozen=True)
class Anchor:
    """The row a page starts after (or ends before), with its values of the list's order."""

    after: bool
    values: tuple


class KeysetPages:
    """A Flask-Admin list whose next and previous pages in its default order are read by keyset."""

    def _get_default_order(self):
        order = list(super()._get_default_order())
        key = self._key_column()
        if order and all(_column(attr) is not key for attr, _joins, _desc in order):
            order.append((getattr(self.model, key.key), [], order[-1][2]))
        return order

    def _key_column(self):
        return self.model.__mapper__.primary_key[0]

    def keyset_order(self) -> list[tuple] | None:
        """(column, descending) of the default order when it can be paged by keyset: a single-column
        primary key, and each sort column the model's own and never NULL (a NULL compares to none)."""
        if len(self.model.__mapper__.primary_key) != 1:
            return None
        order = []
        for attr, joins, desc in self._get_default_order():
            column = _column(attr)
            if joins or getattr(attr, "class_", None) is not self.model or column is None:
                return None
            if column.nullable and column is not self._key_column():
                return None
            order.append((attr, desc))
        return order or None

    def _anchor(self, page, sort_column, page_size) -> Anchor | None:
        """The anchor the request names for `page`, read through the view's query; None to use OFFSET."""
        argument = AFTER_ARG if AFTER_ARG in request.args else BEFORE_ARG if BEFORE_ARG in request.args else None
        order = self.keyset_order() if argument and sort_column is None and page and page_size else None
        if order is None:
            return None
        anchor_id = request.args.get(argument, type=int)
        if anchor_id is None or not 0 < anchor_id <= bounds.MAX_RECORD_ID:
            return None
        key = getattr(self.model, self._key_column().key)
        values = self.get_query().with_entities(*(attr for attr, _desc in order)).filter(key == anchor_id).first()
        return None if values is None else Anchor(argument == AFTER_ARG, tuple(values))

    def _page_size(self, page_size):
        return self.page_size if page_size is None else page_size

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        anchor = self._anchor(page, sort_column, self._page_size(page_size)) if execute else None
        g.keyset_anchor = anchor
        count, data = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )
        if anchor is not None and not anchor.after:
            data = data[::-1]
        if execute and data and sort_column is None and self.keyset_order() is not None:
            shown = (page or 0, self.get_pk_value(data[0]), self.get_pk_value(data[-1]), self._get_list_extra_args())
            g.setdefault("keyset_pages", {})[self.endpoint] = shown
        return count, data

    def _apply_pagination(self, query, page, page_size):
        anchor = g.get("keyset_anchor")
        if anchor is None:
            return super()._apply_pagination(query, page, page_size)
        order = self.keyset_order()
        query = query.filter(_beyond(order, anchor))
        if not anchor.after:  # the rows just before the anchor: the order reversed, the page turned back after
            query = query.order_by(None).order_by(*(attr.asc() if desc else attr.desc() for attr, desc in order))
        return query.limit(self._page_size(page_size))

    def _get_list_url(self, view_args):
        """The list's URL; the next and previous pages of this one, in the same order, filters and
        search, carry the id of the row they start after or end before."""
        extra = {key: value for key, value in view_args.extra_args.items() if key not in (AFTER_ARG, BEFORE_ARG)}
        shown = g.get("keyset_pages", {}).get(self.endpoint)
        if shown is not None and view_args.page and _same_list(view_args, shown[3], self):
            page, first_id, last_id, _current = shown
            if view_args.page == page + 1:
                extra[AFTER_ARG] = last_id
            elif view_args.page == page - 1:
                extra[BEFORE_ARG] = first_id
        return super()._get_list_url(view_args.clone(extra_args=extra))


def _column(attr) -> sa.Column | None:
    """The table column a sort attribute maps to, if it is one."""
    columns = getattr(getattr(attr, "property", None), "columns", None)
    return columns[0] if columns and isinstance(columns[0], sa.Column) else None


def _same_list(linked, current, view) -> bool:
    """Whether a link keeps the list as shown (only its page changes)."""
    return (
        linked.sort is None
        and current.sort is None
        and view.get_safe_page_size(linked.page_size) == view.get_safe_page_size(current.page_size)
        and linked.search == current.search
        and list(linked.filters or []) == list(current.filters or [])
    )


def _beyond(order: list[tuple], anchor: Anchor):
    """The rows after the anchor in `order` (before it when the anchor says so), written so that an
    index on the first column bounds the scan: `c1 <= v1 AND (c1 < v1 OR (c1 = v1 AND ...))`."""

    def past(attr, desc, value, strict=True):
        greater = desc != anchor.after  # ascending and after, or descending and before
        if strict:
            return attr > value if greater else attr < value
        return attr >= value if greater else attr <= value

    ties = []
    alternatives = []
    for (attr, desc), value in zip(order, anchor.values, strict=True):
        alternatives.append(sa.and_(*ties, past(attr, desc, value)))
        ties.append(attr == value)
    (first_attr, first_desc), first_value = order[0], anchor.values[0]
    return sa.and_(past(first_attr, first_desc, first_value, strict=False), sa.or_(*alternatives))
