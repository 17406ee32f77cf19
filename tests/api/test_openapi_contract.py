"""The OpenAPI document is complete and published: every operation described, every
request body exemplified, every error documented by its problem type."""

import ast
from pathlib import Path
from typing import Any

import pytest

from app import openapi
from app.errors import AppError
from app.problems import HTTP_TITLES, PROBLEM_JSON

PROBLEM_PAGES = Path(__file__).resolve().parents[2] / "docs" / "problems"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return openapi.document()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_has_a_summary_and_a_description(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    assert len(operations) > 50
    missing = [
        f"{method.upper()} {path}"
        for method, path, operation in operations
        if not operation.get("summary") or not operation.get("description", "").strip()
    ]
    assert not missing, "operations without a description: " + ", ".join(missing)


def _has_example(spec: dict[str, Any], media: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    schema = media.get("schema", {})
    candidates = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
    for candidate in candidates:
        ref = candidate.get("$ref")
        if ref:
            component = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
            if "example" in component or "examples" in component:
                return True
    return False


def test_every_request_body_has_an_example(spec: dict[str, Any]) -> None:
    bodies = [
        (f"{method.upper()} {path}", media_type, media)
        for method, path, operation in _operations(spec)
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items()
    ]
    assert len(bodies) > 15
    missing = [
        f"{op} ({media_type})" for op, media_type, media in bodies if not _has_example(spec, media)
    ]
    assert not missing, "request bodies without an example: " + ", ".join(missing)


def test_every_operation_documents_its_errors_as_problems(spec: dict[str, Any]) -> None:
    for method, path, operation in _operations(spec):
        errors = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
        assert errors, f"{method.upper()} {path} documents no error"
        for code, response in errors.items():
            if code == "422" and "application/json" in response.get("content", {}):
                continue  # FastAPI's own validation entry, rendered as a problem too
            assert PROBLEM_JSON in response.get("content", {}), (method, path, code)
            assert "problems/" in response["description"], (method, path, code)


def test_the_published_document_matches_the_code(spec: dict[str, Any]) -> None:
    published = openapi.PUBLISHED.read_text(encoding="utf-8")
    assert published == openapi.render(spec), (
        "openapi.json is out of date: run `python -m app.openapi` and commit the result"
    )


def _problem_codes() -> set[str]:
    """Every problem type the code can answer: error classes, the HTTP titles, and the
    codes given to ``problem(status, code, …)`` calls."""

    def subclasses(cls: type[AppError]) -> list[type[AppError]]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    import app.main

    codes = {cls.code for cls in subclasses(AppError)} | {c for c, _ in HTTP_TITLES.values()}
    codes.add("http-error")
    for path in Path(app.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "problem"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                codes.add(str(node.args[1].value))
    return codes


def test_every_problem_type_has_a_page() -> None:
    codes = _problem_codes()
    assert {"validation-error", "not-found", "conflict", "database-unavailable"} <= codes
    missing = sorted(code for code in codes if not (PROBLEM_PAGES / f"{code}.md").is_file())
    assert not missing, f"problem types without a page in docs/problems/: {missing}"
    index = (PROBLEM_PAGES / "README.md").read_text(encoding="utf-8")
    assert all(f"({code}.md)" in index for code in codes)


def _parameter(spec: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    parameters = spec["paths"][path][method]["parameters"]
    return next(p for p in parameters if p["name"] == name)["schema"]


def _component(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]


def test_the_page_size_states_its_bound(spec: dict[str, Any]) -> None:
    limit = _parameter(spec, "get", "/v1/mentors", "limit")
    assert (limit["minimum"], limit["maximum"]) == (1, 500)


def test_department_and_commune_codes_state_the_reference_data(spec: dict[str, Any]) -> None:
    from app.fields import COMMUNE_FORMAT, POSTCODE_FORMAT
    from app.geo import departments

    codes = list(departments())
    assert _parameter(spec, "get", "/v1/mentors", "department")["enum"] == codes
    assert _parameter(spec, "get", "/v1/matches", "department")["anyOf"][0]["enum"] == codes
    programme = _component(spec, "ProgrammeCreate")["properties"]
    assert programme["departments"]["items"]["enum"] == codes
    commune = _parameter(spec, "get", "/v1/programmes", "commune")
    assert commune["format"] == COMMUNE_FORMAT
    assert commune["pattern"] == r"^(?:[0-9]{2}|2[AB])[0-9]{3}$"
    assert programme["communes"]["items"]["format"] == COMMUNE_FORMAT
    location = _component(spec, "LocationIn")["properties"]
    assert location["insee"]["anyOf"][0]["format"] == COMMUNE_FORMAT
    assert location["postcode"]["anyOf"][0]["format"] == POSTCODE_FORMAT


def test_a_location_states_that_it_needs_a_code(spec: dict[str, Any]) -> None:
    one_code, coordinates = _component(spec, "LocationIn")["allOf"]
    assert [branch["required"] for branch in one_code["anyOf"]] == [["insee"], ["postcode"]]
    assert coordinates["anyOf"][0]["required"] == ["lat", "lon"]


@pytest.mark.parametrize(
    "name", ["MentorUpdate", "MenteeUpdate", "ProgrammeUpdate", "OrganisationUpdate"]
)
def test_a_patch_states_which_fields_take_null(spec: dict[str, Any], name: str) -> None:
    import app.mentees.schemas
    import app.mentors.schemas
    import app.organisations.schemas
    import app.programmes.schemas

    modules = [app.mentees.schemas, app.mentors.schemas, app.organisations.schemas]
    model = next(
        getattr(module, name)
        for module in [*modules, app.programmes.schemas]
        if hasattr(module, name)
    )
    for field, prop in _component(spec, name)["properties"].items():
        takes_null = {"type": "null"} in prop.get("anyOf", [])
        assert takes_null == (field in model.NULLABLE), field


def test_lists_that_refuse_duplicates_say_so(spec: dict[str, Any]) -> None:
    for name, field in [
        ("MentorCreate", "skills"),
        ("MentorCreate", "languages"),
        ("MenteeCreate", "needs"),
        ("ProgrammeCreate", "departments"),
        ("ProgrammeCreate", "communes"),
        ("WebhookCreate", "events"),
    ]:
        assert _component(spec, name)["properties"][field]["uniqueItems"] is True, (name, field)


def test_webhook_events_are_the_subscribable_ones(spec: dict[str, Any]) -> None:
    from app.webhooks.schemas import SUBSCRIBABLE

    events = _component(spec, "WebhookCreate")["properties"]["events"]["items"]
    assert events["enum"] == [event.value for event in SUBSCRIBABLE]
    assert "ping" not in events["enum"]


def test_the_birth_year_states_its_range(spec: dict[str, Any]) -> None:
    from datetime import date

    year = date.today().year
    for name in ("MenteeCreate", "MenteeUpdate"):
        birth_year = _component(spec, name)["properties"]["birth_year"]
        assert (birth_year["minimum"], birth_year["maximum"]) == (year - 30, year - 5)


@pytest.mark.parametrize(
    ("path", "first_column_after_id"),
    [
        ("/v1/mentors/import", "kind"),
        ("/v1/mentees/import", "birth_year"),
        ("/v1/supports/import", "first_name"),
    ],
)
def test_each_import_states_its_own_body_and_errors(
    spec: dict[str, Any], path: str, first_column_after_id: str
) -> None:
    operation = spec["paths"][path]["post"]
    content = operation["requestBody"]["content"]
    header = content["text/csv"]["example"].split("\r\n")[0].split(";")
    assert header[:2] == ["external_id", first_column_after_id]
    assert content["text/csv"]["schema"]["minLength"] == 1
    assert "external_id" in content["application/json"]["schema"]["items"]["required"]
    multipart = content["multipart/form-data"]
    assert multipart["encoding"]["file"]["contentType"] == "text/csv, application/json"
    assert "415" in operation["responses"]
    key = _parameter(spec, "post", path, "Idempotency-Key")
    assert (key["pattern"], key["maxLength"]) == ("^[!-~]+$", 255)


def test_the_supports_import_states_that_it_deactivates_nothing(spec: dict[str, Any]) -> None:
    supports = _parameter(spec, "post", "/v1/supports/import", "deactivate_missing")
    assert supports["enum"] == [False]
    assert "enum" not in _parameter(spec, "post", "/v1/mentors/import", "deactivate_missing")


def test_cross_field_rules_are_stated(spec: dict[str, Any]) -> None:
    check_in = _component(spec, "CheckInIn")["anyOf"]
    assert [branch["required"] for branch in check_in] == [["mentor_rating"], ["mentee_rating"]]
    support = _component(spec, "SupportCreate")["oneOf"]
    assert [branch["required"] for branch in support] == [["mentee_id"], ["identity"]]
    programme = _component(spec, "ProgrammeCreate")["anyOf"]
    assert [branch["required"] for branch in programme] == [["departments"], ["communes"]]


def test_the_sort_parameter_states_its_fields(spec: dict[str, Any]) -> None:
    import re

    pattern = re.compile(_parameter(spec, "get", "/v1/matching-runs", "sort")["pattern"])
    for accepted in ["", "status", "-status,created_at", " status , -finished_at"]:
        assert pattern.match(accepted), accepted
    for refused in ["active", "- status", " ", "status,"]:
        assert not pattern.match(refused), refused
