"""A seed file is checked whole: every problem named with its file, line and field."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.booking.seed import DEMO_MUNICIPALITIES, Problem, SeedError, load_seed, parse_seed
from services.booking.seed.lines import KeyLines

FILE = "kommune.toml"
# Line numbers below are of this text.
SEED = """\
[municipality]
id = "kommune"
name = "Kommune"
waiting_target_working_days = 7

[[services]]
id = "pas"
name = "Pas"
duration_minutes = 15
competence = "id-dokumenter"

[[services]]
id = "vielse"
name = "Vielse"
duration_minutes = 30
competence = "vielse"

[[sites]]
id = "raadhus"
name = "Rådhuset"
address = "Torvet 1"
slot_minutes = 15
hours = { mon = "08:00-12:00", thu = "08:00-17:30" }
acute = { seats = 1, release_at = "10:00" }

[[sites.staff]]
name = "Anne"
competences = ["id-dokumenter", "vielse"]
hours = { mon = "08:00-12:00", thu = "08:00-17:30" }

[[sites]]
id = "bibliotek"
name = "Biblioteket"
address = "Algade 2"
slot_minutes = 20
seats = 2
hours = { tue = "10:00-14:00" }
"""


def problems(text: str) -> list[Problem]:
    with pytest.raises(SeedError) as refused:
        parse_seed(text, FILE)
    return refused.value.problems


def only(text: str) -> Problem:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


def test_the_example_is_valid() -> None:
    seed = parse_seed(SEED, FILE)
    assert [s["id"] for s in seed.sites] == ["raadhus", "bibliotek"]
    assert seed.warnings == ()


@pytest.mark.parametrize("name", DEMO_MUNICIPALITIES)
def test_every_demo_seed_file_is_valid_without_warnings(name: str) -> None:
    seed = load_seed(demo=name)
    assert seed.id == name and seed.warnings == ()


def test_every_seed_file_of_the_project_is_valid() -> None:
    folder = Path(str(files("services.booking.seed")))
    paths = [p for p in folder.glob("*.toml") if p.name != "catalog.toml"]
    assert len(paths) >= 3
    for path in paths:
        assert load_seed(path).warnings == ()


def test_an_unknown_field_is_named_with_its_line() -> None:
    problem = only(SEED.replace("slot_minutes = 20", "slot_minutes = 20\nsaets = 2"))
    assert (problem.file, problem.line, problem.field) == (FILE, 36, "sites.saets")
    assert "unknown field 'saets'; did you mean 'seats'?" in problem.message


def test_an_unknown_weekday_is_named() -> None:
    problem = only(SEED.replace('hours = { tue = "10:00-14:00" }', 'hours = { tirs = "10:00" }'))
    assert (problem.line, problem.field) == (37, "sites.hours.tirs")
    assert "unknown weekday 'tirs'; use mon, tue" in problem.message


def test_a_staff_competence_no_service_needs_is_a_typo() -> None:
    problem = only(SEED.replace('["id-dokumenter", "vielse"]', '["id-dokumentr", "vielse"]'))
    assert (problem.line, problem.field) == (28, "sites.staff.competences")
    assert "unknown competence 'id-dokumentr'" in problem.message
    assert "did you mean 'id-dokumenter'?" in problem.message


def test_a_competence_typo_in_the_catalog_leaves_the_service_with_no_times() -> None:
    # Only a roster site: the service's typo would give it no times anywhere.
    text = SEED.split('[[sites]]\nid = "bibliotek"')[0]
    found = problems(text.replace('competence = "vielse"', 'competence = "viesle"'))
    refused = next(p for p in found if p.field == "services.competence")
    assert refused.line == 16
    assert "vielse would get no times at any site" in refused.message
    assert "did you mean 'vielse'?" in refused.message


def test_a_site_offering_a_service_its_roster_cannot_serve_is_refused() -> None:
    text = SEED.replace('competences = ["id-dokumenter", "vielse"]', 'competences = ["vielse"]')
    text = text.replace("slot_minutes = 15\n", 'slot_minutes = 15\nservices = ["pas", "vielse"]\n')
    problem = only(text)
    assert (problem.line, problem.field) == (23, "sites.services")
    assert "nobody on the roster has 'id-dokumenter'" in problem.message


def test_a_roster_without_a_competence_for_every_service_is_a_warning() -> None:
    text = SEED.replace('competences = ["id-dokumenter", "vielse"]', 'competences = ["vielse"]')
    seed = parse_seed(text, FILE)  # pas still has times at the library
    assert [(w.line, w.field) for w in seed.warnings] == [(18, "sites")]
    assert "'id-dokumenter', which pas needs: it gets no times here" in seed.warnings[0].message


def test_an_unknown_service_of_a_site_is_named() -> None:
    problem = only(SEED.replace("seats = 2\n", 'seats = 2\nservices = ["pas", "pass"]\n'))
    assert (problem.line, problem.field) == (37, "sites.services")
    assert "unknown service 'pass'" in problem.message


def test_a_wrong_type_is_an_error_not_a_type_error() -> None:
    problem = only(SEED.replace("slot_minutes = 20", 'slot_minutes = "20"'))
    assert (problem.line, problem.field) == (35, "sites.slot_minutes")
    assert problem.message == "Input should be a valid integer (given '20', a string)"


def test_a_span_closing_before_it_opens_is_refused() -> None:
    problem = only(SEED.replace('tue = "10:00-14:00"', 'tue = "14:00-10:00"'))
    assert (problem.line, problem.field) == (37, "sites.hours.tue")
    assert "closes before it opens" in problem.message


@pytest.mark.parametrize("minutes", ["0", "-15"])
def test_slot_minutes_must_be_positive(minutes: str) -> None:
    problem = only(SEED.replace("slot_minutes = 20", f"slot_minutes = {minutes}"))
    assert (problem.line, problem.field) == (35, "sites.slot_minutes")
    assert "greater than 0" in problem.message


def test_slot_minutes_must_divide_the_hours() -> None:
    problem = only(SEED.replace("slot_minutes = 20", "slot_minutes = 25"))
    assert (problem.line, problem.field) == (37, "sites.hours.tue")
    assert "240 minutes, not a whole number of 25-minute times" in problem.message


def test_negative_seats_are_refused() -> None:
    problem = only(SEED.replace("seats = 2", "seats = -1"))
    assert (problem.line, problem.field) == (36, "sites.seats")
    assert "greater than or equal to 1 (given -1)" in problem.message


def test_a_closed_day_must_be_a_date() -> None:
    text = SEED.replace("= 7\n", '= 7\nclosed_days = [2030-03-04, "2030-02-30"]\n', 1)
    problem = only(text)
    assert (problem.line, problem.field) == (5, "municipality.closed_days")


def test_a_site_needs_seats_or_a_roster_not_both() -> None:
    text = SEED.replace("slot_minutes = 15\n", "slot_minutes = 15\nseats = 2\n")
    text = text.replace("seats = 2\nhours = { tue", "hours = { tue")
    assert [(p.line, p.field) for p in problems(text)] == [(23, "sites.seats"), (32, "sites")]


def test_acute_seats_need_a_roster() -> None:
    text = SEED.replace("seats = 2\n", 'seats = 2\nacute = { seats = 1, release_at = "11:00" }\n')
    problem = only(text)
    assert (problem.line, problem.field) == (37, "sites.acute")


def test_ids_must_be_unique_and_video_sites_must_exist() -> None:
    text = SEED.replace('id = "bibliotek"', 'id = "raadhus"\nvideo_from = "radhus"')
    found = problems(text)
    assert [(p.line, p.field) for p in found] == [
        (19, "sites.id"),
        (32, "sites.id"),
        (33, "sites.video_from"),
    ]
    assert "did you mean 'raadhus'?" not in found[2].message  # itself is no other site


def test_a_video_site_may_not_list_a_service_without_video() -> None:
    text = SEED.replace("seats = 2\n", "").replace(
        'id = "bibliotek"', 'id = "bibliotek"\nvideo_from = "raadhus"\nservices = ["pas"]'
    )
    text += '\n[[sites.staff]]\nname = "Ole"\ncompetences = ["id-dokumenter"]\n'
    text += 'hours = { tue = "10:00-14:00" }\n'
    problem = only(text)
    assert (problem.line, problem.field) == (34, "sites.services")
    assert "pas may not be served by video" in problem.message


def test_a_specialist_at_a_library_and_the_office_at_once_is_refused() -> None:
    text = SEED.replace('hours = { mon = "08:00-12:00", thu', 'hours = { tue = "10:00-12:00", thu')
    text = text.replace("seats = 2\n", "").replace(
        'id = "bibliotek"', 'id = "bibliotek"\nvideo_from = "raadhus"'
    )
    text += '\n[[sites.staff]]\nname = "Anne"\ncompetences = ["vielse"]\n'
    text += 'hours = { tue = "10:00-14:00" }\n'
    text = text.replace('name = "Vielse"', 'name = "Vielse"\nvideo = true')
    problem = only(text)
    assert problem.field == "sites.staff"
    assert "Anne is rostered by video and at the central office on tue" in problem.message


def test_every_problem_of_a_file_is_told_at_once() -> None:
    text = SEED.replace("slot_minutes = 20", 'slot_minutes = "20"').replace(
        'tue = "10:00-14:00"', 'tue = "10:00-14:00", tirs = "10:00-11:00"'
    )
    text = text.replace('name = "Kommune"', 'name = "Kommune"\nnavn = "x"')
    assert [p.field for p in problems(text)] == [
        "municipality.navn",
        "sites.slot_minutes",
        "sites.hours.tirs",
    ]


def test_toml_that_does_not_parse_is_told_with_its_line() -> None:
    problem = only(SEED.replace("seats = 2", "seats = "))
    assert problem.line == 36 and "not valid TOML" in problem.message


def test_lines_of_sub_tables_dotted_keys_and_arrays_over_lines() -> None:
    lines = KeyLines(
        '[[sites]]\nid = "a" # a comment = 1\ndocs = [\n  "x = 1",\n]\nhours.mon = "8"\n'
        "[sites.acute]\nseats = 1\n[[sites]]\nid = 'b'\n"
    )
    assert lines.line_of(("sites", 0, "hours", "mon")) == 6
    assert lines.line_of(("sites", 0, "acute", "seats")) == 8
    assert lines.line_of(("sites", 1, "id")) == 10
    assert lines.line_of(("sites", 0, "docs", 0)) == 3
    assert lines.line_of(("sites", 1, "missing")) == 9


def test_the_seed_command_prints_every_problem_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from borgerservice.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / FILE).write_text(SEED.replace("slot_minutes = 20", 'slot_minutes = "20"'))
    result = CliRunner().invoke(app, ["seed", FILE])
    assert result.exit_code == 1, result.output
    assert f"{FILE}:35: sites.slot_minutes: Input should be a valid integer" in result.output
    assert "Traceback" not in result.output
    assert "│" not in result.output  # one problem a line, as written, not in a framed panel


def test_a_field_written_in_the_wrong_table_is_told_where_it_belongs() -> None:
    problem = only(SEED.replace("[municipality]\n", "[municipality]\nslot_minutes = 15\n", 1))
    assert problem.field == "municipality.slot_minutes"
    assert problem.message == "'slot_minutes' is not a field here; it belongs in [[sites]]"


def test_every_field_of_the_format_is_documented() -> None:
    from services.booking.seed.file_model import FIELD_NAMES

    docs = (Path(__file__).parents[3] / "docs" / "seeds.md").read_text()
    written = ("`{}`", "`[{}]`", "`[[{}]]`", "`[[sites.{}]]`")
    missing = [n for n in sorted(FIELD_NAMES) if not any(w.format(n) in docs for w in written)]
    assert missing == []


def test_a_site_offering_no_service_is_refused() -> None:
    problem = only(SEED.replace("seats = 2\n", "seats = 2\nservices = []\n"))
    assert (problem.line, problem.field) == (37, "sites.services")
