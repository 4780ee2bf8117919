"""SMS texts fit one segment: GSM-7 where letters can be folded (160 septets), else UCS-2 (70 units)."""

from __future__ import annotations

import pytest

from admin_app.services.messaging.sms import fit_one_segment, is_e164, is_gsm7


def septets(text: str) -> int:
    return sum(2 if char in "^{}\\[~]|€" else 1 for char in text)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_spanish_accents_outside_gsm7_are_folded_and_those_inside_are_kept():
    text = fit_one_segment("Cita con María Pérez López el miércoles: Ñandú, pingüino, acción, ÁÍÓÚ.")

    assert text == "Cita con Maria Pérez Lopez el miércoles: Ñandu, pingüino, accion, AIOU."
    assert is_gsm7(text)


def test_accents_typed_as_combining_marks_are_folded_like_precomposed_ones():
    assert fit_one_segment("Luci\u0301a Pe\u0301rez") == "Lucia Pérez"


def test_typographic_quotes_dashes_and_ellipsis_become_plain_gsm7():
    text = fit_one_segment("Rappel : l’heure « 10:00 » – à bientôt…")

    assert text == 'Rappel : l\'heure " 10:00 " - à bientot...'
    assert is_gsm7(text)


def test_newlines_tabs_and_runs_of_spaces_collapse_to_one_line():
    assert fit_one_segment("  Hola\n\nAna,\tmañana\r\n   a las 10:00\n") == "Hola Ana, mañana a las 10:00"


def test_a_text_of_exactly_one_segment_is_kept_whole():
    text = "a" * 159 + "é"

    assert fit_one_segment(text) == text


def test_a_long_spanish_text_is_cut_to_one_gsm7_segment_ending_in_dots():
    long = "Recordatorio: su sesión de terapia está confirmada. " * 6

    text = fit_one_segment(long)

    assert text.endswith("...")
    assert is_gsm7(text)
    assert 150 <= septets(text) <= 160  # cut near the limit, not far before it
    assert text.startswith("Recordatorio: su sesion de terapia esta confirmada. Recordatorio")
    assert " ..." not in text  # no space left before the dots


def test_extended_gsm7_characters_count_two_septets():
    assert fit_one_segment("€" * 80) == "€" * 80  # 160 septets

    text = fit_one_segment("€" * 81)

    assert text == "€" * 78 + "..."
    assert septets(text) == 159


def test_a_text_that_cannot_be_folded_is_measured_as_ucs2_seventy_characters():
    assert fit_one_segment("预约提醒" * 17 + "预约") == "预约提醒" * 17 + "预约"  # 70 characters: whole

    text = fit_one_segment("您的预约提醒：明天上午十点与医生见面。" * 8)

    assert not is_gsm7(text)
    assert text.endswith("...")
    assert len(text) == 70


def test_ucs2_counts_characters_outside_the_basic_plane_as_two_units():
    text = fit_one_segment("Cita 🙂 " * 30)

    assert text.endswith("...")
    assert 65 <= utf16_units(text) <= 70


def test_a_gsm7_beginning_keeps_its_160_septets_when_only_the_cut_tail_was_ucs2():
    text = fit_one_segment("a" * 150 + " 预约提醒" * 10)

    assert text == "a" * 150 + "..."


@pytest.mark.parametrize("number", ["+51987654321", "+16045551234", "+5114112233"])
def test_e164_numbers_are_accepted(number):
    assert is_e164(number)


@pytest.mark.parametrize(
    "number",
    ["987654321", "51987654321", "+1 604", "+1 604 555 1234", "+1-604-555-1234", "+5198765432x", "+999123456", ""],
)
def test_anything_else_is_refused(number):
    assert not is_e164(number)
