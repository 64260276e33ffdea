"""The staff dashboard, a page of the admin (/admin/referral/dashboard/, config.admin).

Every chart is an SVG drawn on the server by pygal, with no script and nothing fetched
from elsewhere, and the numbers behind it in a table below it; `?csv=<chart>` downloads
them. The figures come from referral.dashboard, which caches each for a minute.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pygal
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal.etree import etree
from pygal.style import Style

from referral.dashboard import (
    REFUSAL_REASONS,
    WINDOWS,
    Conversion,
    dashboard_conversion,
    dashboard_forest,
    dashboard_refusals,
    dashboard_signups,
    dashboard_top_direct,
    dashboard_top_downline,
)

# The admin's own colours, so the charts sit in its page.
_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#333",
    foreground_strong="#333",
    foreground_subtle="#bbb",
    colors=("#417690", "#79aec8", "#e0a800", "#ba2121", "#5b8a3c"),
    font_family="sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    value_font_size=11,
)
_CHART = {
    "style": _STYLE,
    "js": [],  # pygal's default loads its tooltips script from a CDN
    "disable_xml_declaration": True,
    "width": 900,
    "height": 300,
    "explicit_size": True,
    "show_legend": True,
    "legend_at_bottom": True,
    "margin": 10,
    "print_values": False,
    "truncate_label": -1,
    "truncate_legend": -1,
}
_NO_DATA = {"no_data_text": ""}


@dataclass
class Chart:
    """One chart of the page: its SVG, and the table (also its CSV) behind it."""

    slug: str
    title: str
    svg: SafeString
    header: Sequence[str]
    rows: list[Sequence[Any]]
    note: str = ""
    links: list[str | None] | None = None  # per row: an admin page for its first cell


def _svg(chart: Any) -> SafeString:
    """The chart's SVG without pygal's script element, which only configures the tooltip
    script we do not load, and repeats every label in a JSON that nothing escapes for
    the page (an email may hold "</script>"). Every label is element text, escaped."""
    tree = chart.render_tree()
    for parent in tree.iter():
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.endswith("script"):
                parent.remove(child)
    return mark_safe(etree.tostring(tree, encoding="unicode"))  # noqa: S308


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _user_url(user_id: int) -> str:
    return reverse("admin:users_user_change", args=[user_id])


def _signups_charts(days: int) -> list[Chart]:
    signups = dashboard_signups(days=days, now=timezone.now())
    labels = [f"{row.day:%Y-%m-%d}" for row in signups]
    every = max(1, len(labels) // 10)
    line = pygal.Line(
        **_CHART,
        **_NO_DATA,
        show_dots=False,
        x_label_rotation=0,
        x_labels_major_every=every,
        show_minor_x_labels=False,
        include_x_axis=True,
    )
    line.x_labels = labels
    line.add(_("all"), [row.total for row in signups])
    line.add(_("by referral"), [row.referred for row in signups])
    line.add(_("email"), [row.email for row in signups])
    line.add(_("phone"), [row.phone for row in signups])
    share = pygal.Line(
        **{**_CHART, "height": 220},
        **_NO_DATA,
        show_dots=False,
        x_labels_major_every=every,
        show_minor_x_labels=False,
        range=(0, 100),
        value_formatter=lambda value: f"{value:.0f}%",
    )
    share.x_labels = labels
    share.add(
        _("share by referral"),
        [None if row.referred_share is None else row.referred_share * 100 for row in signups],
    )
    rows: list[Sequence[Any]] = [
        (
            label,
            row.total,
            row.referred,
            _percent(row.referred_share),
            row.email,
            row.phone,
        )
        for label, row in zip(labels, signups, strict=True)
    ]
    total = sum(row.total for row in signups)
    referred = sum(row.referred for row in signups)
    note = _("%(total)s sign-ups in %(days)d days, %(share)s of them by referral.") % {
        "total": number_format(total, force_grouping=True),
        "days": days,
        "share": _percent(referred / total if total else None) or "0%",
    }
    header = (_("day"), _("sign-ups"), _("by referral"), _("share"), _("email"), _("phone"))
    return [
        Chart("signups", _("Sign-ups per day"), _svg(line), header, rows, note),
        Chart(
            "referral-share",
            _("Share of sign-ups by referral"),
            _svg(share),
            (_("day"), _("share")),
            [(row[0], row[3]) for row in rows],
        ),
    ]


def _top_chart(slug: str, title: str, count_label: str, top: Sequence[Any]) -> Chart:
    bars = pygal.HorizontalBar(**{**_CHART, "height": 320, "show_legend": False}, **_NO_DATA)
    bars.x_labels = [row.label for row in reversed(top)]
    bars.add(count_label, [row.count for row in reversed(top)])
    return Chart(
        slug,
        title,
        _svg(bars),
        (_("user"), count_label),
        [(row.label, row.count) for row in top],
        links=[_user_url(row.user_id) for row in top],
    )


def _forest_chart() -> Chart:
    forest = dashboard_forest()
    bars = pygal.Bar(**{**_CHART, "show_legend": False}, **_NO_DATA)
    bars.x_labels = [str(level) for level, _count in forest.levels]
    bars.add(_("users"), [count for _level, count in forest.levels])
    note = _(
        "%(users)s users in %(roots)s trees; the deepest chain is %(deepest)d levels below "
        "its root."
    ) % {
        "users": number_format(forest.users, force_grouping=True),
        "roots": number_format(forest.roots, force_grouping=True),
        "deepest": forest.deepest,
    }
    return Chart(
        "levels",
        _("Users per level (0: no referrer)"),
        _svg(bars),
        (_("level"), _("users")),
        [list(row) for row in forest.levels],
        note,
    )


def _refusals_chart(days: int) -> Chart:
    refusals = dashboard_refusals(days=days, now=timezone.now())
    bars = pygal.Bar(**{**_CHART, "height": 260, "show_legend": False}, **_NO_DATA)
    bars.x_labels = [reason for reason, _count in refusals]
    bars.add(_("refused"), [count for _reason, count in refusals])
    return Chart(
        "refusals",
        _("Invite codes refused, by reason, in %(days)d days") % {"days": days},
        _svg(bars),
        (_("reason"), _("refused")),
        [list(row) for row in refusals],
        _("Counted when a sign-up or /me/referrer/ is refused a code: %(reasons)s, …")
        % {"reasons": ", ".join(REFUSAL_REASONS)},
    )


def _conversion_charts() -> list[Chart]:
    figures = dashboard_conversion()
    charts = []
    header = (_("clicks"), _("sign-ups"), _("sign-ups per click"))
    tables: list[tuple[str, str, list[Conversion], list[str | None]]] = [
        (
            "conversion-codes",
            _("Click to sign-up, most clicked codes"),
            figures.codes,
            [_code_url(row.code_id) for row in figures.codes],
        ),
        (
            "conversion-referrers",
            _("Click to sign-up, referrers whose codes were clicked most"),
            figures.referrers,
            [_user_url(row.user_id) for row in figures.referrers],
        ),
    ]
    for slug, title, rows, links in tables:
        bars = pygal.HorizontalBar(**{**_CHART, "height": 320}, **_NO_DATA)
        bars.x_labels = [row.label for row in reversed(rows)]
        bars.add(_("clicks"), [row.clicks for row in reversed(rows)])
        bars.add(_("sign-ups"), [row.uses for row in reversed(rows)])
        charts.append(
            Chart(
                slug,
                title,
                _svg(bars),
                (_("code") if slug == "conversion-codes" else _("user"), *header),
                [(row.label, row.clicks, row.uses, _percent(row.rate)) for row in rows],
                links=links,
            )
        )
    charts[0].note = _(
        "%(clicks)s share-link clicks in all, %(uses)s sign-ups with the clicked codes "
        "(%(rate)s). A sign-up counts whether the code came by the link or was typed in, "
        "so a code can convert above 100%%."
    ) % {
        "clicks": number_format(figures.clicks, force_grouping=True),
        "uses": number_format(figures.uses, force_grouping=True),
        "rate": _percent(figures.rate) or "-",
    }
    return charts


def _code_url(code_id: int | None) -> str | None:
    return reverse("admin:codes_referralcode_change", args=[code_id]) if code_id else None


def _charts(days: int) -> list[Chart]:
    builders: list[Callable[[], list[Chart]]] = [
        lambda: _signups_charts(days),
        lambda: [
            _top_chart(
                "top-direct",
                _("Top referrers by direct referrals"),
                _("direct referrals"),
                dashboard_top_direct(),
            ),
            _top_chart(
                "top-downline",
                _("Top referrers by whole downline"),
                _("downline"),
                dashboard_top_downline(),
            ),
        ],
        lambda: [_forest_chart()],
        lambda: [_refusals_chart(days)],
        _conversion_charts,
    ]
    return [chart for build in builders for chart in build()]


def _csv(chart: Chart) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{chart.slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(chart.header)
    writer.writerows(chart.rows)
    return response


def dashboard_view(request: HttpRequest, *, site_context: dict[str, Any]) -> HttpResponse:
    """The dashboard for staff who may view users: `?days=` 30, 90 or 365 (the sign-up and
    refusal charts), `?csv=<chart>` for one chart's numbers as CSV."""
    if not request.user.has_perm("users.view_user"):
        raise PermissionDenied
    try:
        days = int(request.GET.get("days", WINDOWS[0]))
    except ValueError:
        days = WINDOWS[0]
    if days not in WINDOWS:
        days = WINDOWS[0]
    charts = _charts(days)
    wanted = request.GET.get("csv")
    if wanted is not None:
        chart = next((chart for chart in charts if chart.slug == wanted), None)
        if chart is None:
            raise Http404
        return _csv(chart)
    for chart in charts:
        chart.rows = [
            [(cell, link) if index == 0 else (cell, None) for index, cell in enumerate(row)]
            for row, link in zip(chart.rows, chart.links or [None] * len(chart.rows), strict=True)
        ]
    context = {
        **site_context,
        "title": _("Referral programme dashboard"),
        "charts": charts,
        "days": days,
        "windows": WINDOWS,
    }
    return TemplateResponse(request, "admin/referral/dashboard.html", context)
