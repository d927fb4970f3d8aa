"""Server-side checks of what a customer typed. No I/O: a clean value or a problem per field.

Field names are JSON paths into the booking request (``customer.email``,
``answers.reason``), the same in the API's problem details and in the
widget's inline errors.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from slotwise.domain.metadata import metadata_problems
from slotwise.domain.model import Customer, PhoneMode, Question, QuestionType
from slotwise.services.errors import FieldProblem

# Names: long enough for "Maria del Carmen Fernández de la Torre y Pérez",
# short enough to fit an SMS and a calendar title.
NAME_MAX_LENGTH = 100
DEFAULT_TEXT_MAX = 200
DEFAULT_TEXTAREA_MAX = 2000


def clean_text(value: Any) -> str:
    """Trim, normalise to NFC and drop control characters other than newlines."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFC", value).strip()
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


# A postal address: a few lines ("Hafenstraße 12\n20457 Hamburg"); longer is not an address.
ADDRESS_MAX_LENGTH = 500


def validate_address(value: Any) -> tuple[str | None, list[FieldProblem]]:
    """The customer's postal address (required where a service asks for it): its
    non-empty lines, each trimmed and with runs of spaces made one."""
    lines = [" ".join(line.split()) for line in clean_text(value).splitlines()]
    text = "\n".join(line for line in lines if line)
    if not text:
        return None, [FieldProblem("customer.address", "address-missing")]
    if len(text) > ADDRESS_MAX_LENGTH:
        return None, [FieldProblem("customer.address", "too-long", {"limit": ADDRESS_MAX_LENGTH})]
    return text, []


def metadata_field_problems(value: Any, field: str = "metadata") -> list[FieldProblem]:
    """Custom fields checked (domain/metadata.py), one problem per offending key."""
    return [FieldProblem(f"{field}.{key}" if key is not None else field, code, params)
            for key, code, params in metadata_problems(value)]


def phone_region(contact_phone: str | None) -> str | None:
    """The region national numbers are read in: the business's own phone's country."""
    if not contact_phone:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(contact_phone, None))
    except phonenumbers.NumberParseException:
        return None


def validate_customer(
    name: Any, email: Any, phone: Any, *, phone_mode: str, default_region: str | None
) -> tuple[Customer | None, list[FieldProblem]]:
    problems: list[FieldProblem] = []

    clean_name = " ".join(clean_text(name).split())
    if not clean_name:
        problems.append(FieldProblem("customer.name", "name-missing"))
    elif len(clean_name) > NAME_MAX_LENGTH:
        problems.append(FieldProblem("customer.name", "too-long", {"limit": NAME_MAX_LENGTH}))

    clean_email = ""
    raw_email = clean_text(email)
    if not raw_email:
        problems.append(FieldProblem("customer.email", "email-missing"))
    else:
        try:
            clean_email = validate_email(raw_email, check_deliverability=False).normalized
        except EmailNotValidError:
            problems.append(FieldProblem("customer.email", "email-invalid"))

    clean_phone = None
    raw_phone = clean_text(phone)
    if phone_mode == PhoneMode.HIDDEN:
        raw_phone = ""
    if not raw_phone:
        if phone_mode == PhoneMode.REQUIRED:
            problems.append(FieldProblem("customer.phone", "phone-missing"))
    else:
        clean_phone = _parse_phone(raw_phone, default_region, problems)

    if problems:
        return None, problems
    return Customer(name=clean_name, email=clean_email, phone=clean_phone), []


def _parse_phone(raw: str, region: str | None, problems: list[FieldProblem]) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        # Without a region of the business's own, a national number cannot be read.
        problems.append(FieldProblem("customer.phone", "phone-invalid") if region
                        else FieldProblem("customer.phone", "phone-needs-country", {"example": "+49"}))
        return None
    if not phonenumbers.is_valid_number(number):
        problems.append(FieldProblem("customer.phone", "phone-invalid"))
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_answers(
    questions: Sequence[Question], answers: Any
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Answers by the question's type; unknown keys are ignored, not stored."""
    if not isinstance(answers, Mapping):
        answers = {}
    clean: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for question in questions:
        key = question.key
        field = f"answers.{key}"
        value = answers.get(key)
        kind = question.type
        required = question.required
        if kind is QuestionType.CHECKBOX:
            checked = value is True or (isinstance(value, str) and value.lower() in {"on", "true", "1", "yes"})
            if required and not checked:
                problems.append(FieldProblem(field, "consent-missing"))
            clean[key] = checked
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                problems.append(FieldProblem(field, "answer-missing"))
            continue
        if kind is QuestionType.NUMBER:
            number = _parse_number(value)
            low, high = question.min, question.max
            if number is None:
                problems.append(FieldProblem(field, "number-expected"))
            elif low is not None and number < low:
                problems.append(FieldProblem(field, "number-too-small", {"low": low}))
            elif high is not None and number > high:
                problems.append(FieldProblem(field, "number-too-large", {"high": high}))
            else:
                clean[key] = number
            continue
        text = clean_text(value) if isinstance(value, str) else ""
        if kind is QuestionType.SELECT:
            if text not in question.options:
                problems.append(FieldProblem(field, "option-unknown"))
            else:
                clean[key] = text
            continue
        limit = question.max_length or (
            DEFAULT_TEXTAREA_MAX if kind is QuestionType.TEXTAREA else DEFAULT_TEXT_MAX)
        if kind is QuestionType.TEXT:
            text = " ".join(text.split())
        if not isinstance(value, str):
            problems.append(FieldProblem(field, "text-expected"))
        elif len(text) > limit:
            problems.append(FieldProblem(field, "too-long", {"limit": limit}))
        else:
            clean[key] = text
    return clean, problems


def _parse_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            return None
        if number != number or abs(number) == float("inf"):
            return None
        return int(number) if number.is_integer() else number
    return None
