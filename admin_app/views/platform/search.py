"""Searches that stay out of URLs.

A search term is often a client's name, and URLs are kept by browser history, proxies and access
logs. So a list's search box posts its term; the term is kept in the user's session and the list's
links (pages, sorting, filters, exports) carry an opaque key in its place. The pickers of a form
(Select2 lookups) post what is typed too (static/js/admin-csp.js turns their GET into a POST).
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Response, abort, redirect, request, session
from flask_admin import expose

KEY_PREFIX = "~"
KEPT = 20  # the searches a user's session remembers (older keys then show the whole list)
MAX_TERM = 200
LOOKUP_MAX = 50


def search_key(term: str | None) -> str | None:
    """The opaque key that stands for `term` in this user's links (made and kept on first use)."""
    if not term:
        return None
    kept: dict[str, str] = session.get("searches", {})
    for key, kept_term in kept.items():
        if kept_term == term:
            return key
    key = KEY_PREFIX + secrets.token_urlsafe(6)
    session["searches"] = dict(list(kept.items())[-(KEPT - 1) :]) | {key: term}
    return key


def search_term(value: str | None) -> str | None:
    """The term a link's `search` value stands for: a key is looked up in the session (a key that is
    not there, one from another session or a forgotten one, searches nothing); any other value is a
    term typed into the address bar."""
    if not value:
        return None
    if value.startswith(KEY_PREFIX):
        return session.get("searches", {}).get(value)
    return value[:MAX_TERM]


def searched_arguments(form, *, terms: tuple[str, ...]) -> dict[str, str]:
    """A posted search form as the query arguments of its page: what is filled in, each free-text
    field of `terms` by its key."""
    return {
        name: search_key(value.strip()[:MAX_TERM]) if name in terms else value
        for name, value in form.items()
        if name != "csrf_token" and value.strip()
    }


def lookup_response(loader) -> Response:
    """The JSON a Select2 picker expects, for the posted `query` (the loader's `name` in the query
    string or the body; another name is a 404)."""
    name = request.args.get("name") or request.form.get("name")
    if loader is None or name != loader.name:
        abort(404)
    query = request.form.get("query", "")[:MAX_TERM]
    offset = max(request.form.get("offset", 0, type=int), 0)
    limit = min(max(request.form.get("limit", 10, type=int), 1), LOOKUP_MAX)
    found = loader.get_list(query, offset, limit)
    return Response(json.dumps([loader.format(record) for record in found]), mimetype="application/json")


class SearchInBody:
    """A Flask-Admin list whose search term is posted and whose links carry its key."""

    search_key = staticmethod(search_key)  # the filter form's hidden search (templates/admin/model/layout.html)

    def _get_list_extra_args(self):
        view_args = super()._get_list_extra_args()
        view_args.search = search_term(view_args.search)
        return view_args

    def _get_list_url(self, view_args):
        return super()._get_list_url(view_args.clone(search=search_key(view_args.search)))

    @expose("/search/", methods=("POST",))
    def search_view(self):
        """Back to the list the search box was on (its filters, sorting and page size kept), from
        its first page, searching for the posted term."""
        back = urlsplit(request.form.get("back", ""))  # only its query is read: the path is the list's
        kept = [(name, value) for name, value in parse_qsl(back.query) if name not in ("search", "page")]
        term = request.form.get("search", "").strip()[:MAX_TERM]
        if term:
            kept.append(("search", search_key(term)))
        list_url = self.get_url(".index_view")
        return redirect(f"{list_url}?{urlencode(kept)}" if kept else list_url)

    @expose("/ajax/lookup/", methods=("POST",))
    def ajax_lookup(self):
        return lookup_response(self._form_ajax_refs.get(request.args.get("name") or request.form.get("name")))
