"""Reading a site file: TOML in, a :class:`~slotwise.sitefile.schema.SiteSpec` out,
or a :class:`~slotwise.sitefile.errors.SiteFileError` listing every problem.

Pass 1 checks each table with a strict pydantic model (``structure.py``) whose
fields use the value parsers of ``values``; pass 2, here, checks across tables;
``report.py`` words every problem, ``templates.py`` checks message templates.
See the package docstring.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any


from slotwise.domain.locales import default_text
from slotwise.domain.model import Question, QuestionType
from slotwise.sitefile.errors import Problem, SiteFileError
from slotwise.sitefile.schema import (
    NO_HOURS,
    WEEKDAYS,
    ReadOnlyWeeklyHours,
    ResourceSpec,
    ServiceSpec,
    SiteSpec,
)
from slotwise.sitefile.values import (
    DEFAULT_MAX_LENGTH,
    _did_you_mean,
    _expand,
    _show,
)
from slotwise.sitefile.report import Loc, Report, format_path
from slotwise.sitefile.structure import RawFile, RawHours, RawQuestion, RawResource, RawService, RawSite
from slotwise.sitefile.templates import parse_templates

# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def load_site_file(path: str | os.PathLike[str]) -> SiteSpec:
    """Read a UTF-8 TOML site file and parse it; the path is the error source."""
    source = os.fspath(path)
    try:
        # utf-8-sig: tolerate the byte-order mark some Windows editors write.
        with open(path, encoding="utf-8-sig") as file:
            text = file.read()
    except UnicodeDecodeError as error:
        raise SiteFileError(
            source, [Problem("", f"is not UTF-8 text (bad byte at offset {error.start})")]
        ) from None
    except OSError as error:
        raise SiteFileError(
            source, [Problem("", f"cannot read the file: {error.strerror or error}")]
        ) from None
    return parse_site(text, source=source)


def parse_site(text: str, *, source: str) -> SiteSpec:
    """Parse and validate a site file's text. Raises :class:`SiteFileError`.

    ``source`` names the text in messages (usually the file name).
    """
    return parse_site_data(_read_toml(text, source), source=source)


def parse_site_data(data: Any, *, source: str) -> SiteSpec:
    """Validate a site file already read into a table (TOML, or the same shape as JSON)."""
    if not isinstance(data, dict):
        raise SiteFileError(source, [Problem("", "must be a table with [site], resources and services")])
    report = Report(data)

    report.validate(RawFile, data, ())
    site_data = data.get("site")
    resource_items = _tables_in(data.get("resources"))
    service_items = _tables_in(data.get("services"))

    raw_site = (
        report.validate(RawSite, site_data, ("site",)) if isinstance(site_data, dict) else None
    )
    locale = raw_site.locale if raw_site else "en"
    raw_resources = [
        report.validate(RawResource, item, ("resources", index)) for index, item in resource_items
    ]
    raw_services = [
        report.validate(RawService, item, ("services", index)) for index, item in service_items
    ]

    _check_unique(report, resource_items, ("resources",), "key", "resource key")
    _check_unique(report, service_items, ("services",), "slug", "service slug")
    known_resources = {
        item["key"] for _, item in resource_items if isinstance(item.get("key"), str)
    }
    groups_by_service: dict[int, tuple[tuple[str, ...], ...]] = {}
    for index, item in service_items:
        loc = ("services", index)
        _check_unique(
            report, _tables_in(item.get("questions")), (*loc, "questions"), "key", "question key"
        )
        if isinstance(item.get("resources"), list):
            groups_by_service[index] = _resource_groups(
                report, item["resources"], (*loc, "resources"), known_resources
            )

    email_templates, sms_templates = parse_templates(report, data.get("templates"))

    if report.problems or raw_site is None:
        raise SiteFileError(source, report.problems)
    return SiteSpec(
        slug=raw_site.slug,
        name=raw_site.name,
        timezone=raw_site.timezone,
        locale=raw_site.locale,
        allowed_origins=tuple(raw_site.allowed_origins),
        accent=raw_site.accent,
        contact_email=raw_site.contact_email,
        contact_phone=raw_site.contact_phone,
        address=raw_site.address,
        hours=_weekly(raw_site.hours) or NO_HOURS,
        closed=_expand(raw_site.closed),
        hold_minutes=raw_site.hold_minutes,
        max_reschedules=raw_site.max_reschedules,
        sms_enabled=raw_site.sms_enabled,
        sandbox=raw_site.sandbox,
        notify_email=raw_site.notify_email,
        feed_customer_names=raw_site.feed_customer_names,
        resources=tuple(_resource_spec(raw, locale) for raw in raw_resources if raw),
        services=tuple(
            _service_spec(raw, groups_by_service[index], locale)
            for (index, _), raw in zip(service_items, raw_services, strict=True)
            if raw
        ),
        email_templates=MappingProxyType(email_templates),
        sms_templates=MappingProxyType(sms_templates),
    )


def parse_resource(table: Any, *, source: str = "request", locale: str = "en") -> ResourceSpec:
    """One ``[[resources]]`` table on its own (e.g. an API body) -> :class:`ResourceSpec`.

    The same model, value parsers and messages as in a file; problem paths
    start inside the table (``hours.mon[0]``). ``locale`` is the site's
    language (what a plain string is in). Raises :class:`SiteFileError`.
    """
    report = Report(table if isinstance(table, dict) else {})
    raw = report.validate(RawResource, table, ())
    if report.problems or raw is None:
        raise SiteFileError(source, report.problems)
    return _resource_spec(raw, locale)


def parse_service(
    table: Any, *, resources: Iterable[str], source: str = "request", locale: str = "en"
) -> ServiceSpec:
    """One ``[[services]]`` table on its own -> :class:`ServiceSpec`.

    ``resources`` are the resource keys it may name (a file's own; through
    the API, the site's active resources). Paths start inside the table
    (``questions[1].type``, ``resources[0]``). Raises :class:`SiteFileError`.
    """
    data = table if isinstance(table, dict) else {}
    report = Report(data)
    raw = report.validate(RawService, table, ())
    _check_unique(report, _tables_in(data.get("questions")), ("questions",), "key", "question key")
    groups: tuple[tuple[str, ...], ...] = ()
    if isinstance(data.get("resources"), list):
        groups = _resource_groups(report, data["resources"], ("resources",), set(resources))
    if report.problems or raw is None:
        raise SiteFileError(source, report.problems)
    return _service_spec(raw, groups, locale)


def _read_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML, turning a syntax error into a Problem at its line/column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # Python 3.11's message ends in "(at line 3, column 7)" or
        # "(at end of document)"; move that into the problem's path.
        message = str(error)
        where = re.search(r"\s*\(at (line \d+, column \d+|end of document)\)$", message)
        path = where.group(1) if where else ""
        reason = message[: where.start()] if where else message
        raise SiteFileError(source, [Problem(path, f"invalid TOML: {reason}")]) from None


def _tables_in(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """The (index, table) pairs of an array of tables; other items are skipped
    (their type error is reported by the structural pass)."""
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


# --------------------------------------------------------------------------
# Pass 2: checks across tables
# --------------------------------------------------------------------------


def _check_unique(
    report: Report,
    items: list[tuple[int, dict[str, Any]]],
    loc: Loc,
    key_field: str,
    what: str,
) -> None:
    """Report every item whose ``key_field`` repeats an earlier item's."""
    first_at: dict[str, int] = {}
    for index, item in items:
        key = item.get(key_field)
        if not isinstance(key, str):
            continue
        if key in first_at:
            first = format_path((*loc, first_at[key]))
            report.add(
                (*loc, index, key_field), f"duplicate {what} {_show(key)} (already used by {first})"
            )
        else:
            first_at[key] = index


def _resource_groups(
    report: Report, value: list[Any], loc: Loc, known: set[str]
) -> tuple[tuple[str, ...], ...]:
    """A service's ``resources`` -> groups; one resource is taken from each.

    ``["anna", "ben"]`` is one group (any of them); ``[["anna", "ben"],
    ["room-1", "room-2"]]`` is two (a therapist and a room). Reports an empty
    list or group, a mix of both forms, unknown keys and keys listed twice.
    """
    if not value:
        report.add(loc, 'a service needs at least one resource, e.g. ["anna"]')
        return ()
    if all(isinstance(item, list) for item in value):
        groups = [((*loc, index), group) for index, group in enumerate(value)]
    elif not any(isinstance(item, list) for item in value):
        groups = [(loc, value)]
    else:
        report.add(
            loc,
            "must be a list of resource keys (one group) or a list of such lists "
            "(one resource from each group), not a mix",
        )
        return ()
    first_at: dict[str, Loc] = {}
    result = []
    for group_loc, group in groups:
        if not group:
            report.add(group_loc, "this group is empty; list at least one resource key")
        for index, key in enumerate(group):
            item_loc = (*group_loc, index)
            if not isinstance(key, str):
                report.add(item_loc, f"must be a resource key in quotes, got {_show(key)}")
            elif key in first_at:
                report.add(
                    item_loc,
                    f"resource {_show(key)} is listed twice in this service "
                    f"(also {format_path(first_at[key])})",
                )
            elif key not in known:
                hint = _did_you_mean(key, known) or (
                    f"; known keys: {', '.join(sorted(known))}" if known else ""
                )
                report.add(item_loc, f"no resource with key {_show(key)}{hint}")
            if isinstance(key, str):
                first_at.setdefault(key, item_loc)
        result.append(tuple(key for key in group if isinstance(key, str)))
    return tuple(result)


# --------------------------------------------------------------------------
# Raw tables -> spec objects (only reached when nothing is wrong)
# --------------------------------------------------------------------------


def _weekly(hours: RawHours | None) -> ReadOnlyWeeklyHours | None:
    """Weekday name -> ranges becomes weekday number -> ranges, open days only."""
    if hours is None:
        return None
    by_weekday = {
        weekday: tuple(getattr(hours, name))
        for weekday, name in enumerate(WEEKDAYS)
        if getattr(hours, name)
    }
    return MappingProxyType(by_weekday)


def _split(fields: Mapping[str, Any], locale: str) -> tuple[dict[str, str | None], dict[str, Any]]:
    """Per-language fields -> their site-language texts and the tables given (see domain/locales.py)."""
    plain: dict[str, str | None] = {}
    texts: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, dict):
            plain[name] = default_text(value, locale)
            texts[name] = MappingProxyType(dict(value))
        else:
            plain[name] = value
    return plain, texts


def _resource_spec(raw: RawResource, locale: str) -> ResourceSpec:
    plain, texts = _split({"name": raw.name}, locale)
    return ResourceSpec(
        key=raw.key,
        name=plain["name"] or "",
        texts=MappingProxyType(texts),
        metadata=MappingProxyType(dict(raw.metadata)),
        kind=raw.kind,
        timezone=raw.timezone,
        hours=_weekly(raw.hours),
        closed=_expand(raw.closed),
        extra_open=MappingProxyType(
            {day: tuple(ranges) for day, ranges in sorted(raw.extra_open.items())}
        ),
    )


def _question_spec(raw: RawQuestion, locale: str) -> Question:
    max_length = raw.max_length
    if max_length is None:
        max_length = DEFAULT_MAX_LENGTH.get(raw.type)
    plain, texts = _split({"label": raw.label}, locale)
    options: list[str] = []
    option_texts: dict[str, Any] = {}
    for option in raw.options or ():
        value = default_text(option, locale) if isinstance(option, dict) else option
        options.append(value)
        if isinstance(option, dict):
            option_texts[value] = MappingProxyType(dict(option))
    return Question(
        key=raw.key,
        label=plain["label"] or "",
        texts=MappingProxyType(texts),
        option_texts=MappingProxyType(option_texts),
        type=QuestionType(raw.type),
        required=raw.required,
        options=tuple(options),
        min=raw.min,
        max=raw.max,
        max_length=max_length,
    )


def _service_spec(raw: RawService, groups: tuple[tuple[str, ...], ...], locale: str) -> ServiceSpec:
    plain, texts = _split(
        {"name": raw.name, "description": raw.description, "category": raw.category}, locale)
    return ServiceSpec(
        slug=raw.slug,
        name=plain["name"] or "",
        description=plain["description"] or "",
        category=plain["category"],
        texts=MappingProxyType(texts),
        listed_duration=raw.listed_duration,
        ask_address=raw.ask_address,
        metadata=MappingProxyType(dict(raw.metadata)),
        duration=raw.duration,
        step=raw.step if raw.step is not None else raw.duration,
        buffer_before=raw.buffer_before,
        buffer_after=raw.buffer_after,
        min_notice=raw.min_notice,
        max_advance=raw.max_advance,
        cancel_until=raw.cancel_until,
        reschedule_until=raw.reschedule_until,
        seats=raw.seats,
        price_minor=raw.price.minor if raw.price else None,
        currency=raw.price.currency if raw.price else None,
        phone=raw.phone,
        reminders=tuple(raw.reminders),
        questions=tuple(_question_spec(question, locale) for question in raw.questions),
        resource_groups=groups,
        enabled=raw.enabled,
    )
