"""Every message the service can send exists in English and in French."""

import ast
import string
from pathlib import Path

import pydantic
import pytest

import app
from app.errors import AppError
from app.i18n import negotiate, translate
from app.i18n.catalogue import PLACEHOLDER, catalog, entries, labels, translation
from app.imports.columns import COLUMNS
from app.problems import HTTP_TITLES

APP_DIR = Path(app.__file__).parent
# Raised for a programming error, never for a request: no client ever reads them.
INTERNAL_MESSAGES = {
    "naive datetime: use app.db.utcnow()",
    "audit counts are whole numbers only",
    "unexpected columns in x: x",  # the vendored communes file
    "unexpected geometry x",  # the vendored department outlines
    "x: expected a rate such as 20/minute",  # settings, checked at start
    "x: use a synchronous storage",  # settings, checked at start
}
# Where errors never reach a client as such: the engine's input checks guard the
# service's own snapshot; identity keys are the operators' configuration, checked at start.
NOT_CLIENT_FACING = ("matching", "identity/keys.py", "identity/rotation.py")
# Where the message is in calls that are not errors themselves: field_error(field, message),
# problem(status, code, title, detail).
MESSAGE_ARGUMENTS = {"field_error": (1,), "GeocodingError": (1,), "problem": (2, 3)}


def test_every_catalogue_entry_has_a_translation_with_the_same_placeholders() -> None:
    french = catalog("fr")
    assert french is not None
    checked = 0
    for message in french:
        if not message.id:
            continue
        assert message.string, f"no French for {message.id!r}"
        ours = set(PLACEHOLDER.findall(str(message.id)))
        theirs = {name for _, name, _, _ in string.Formatter().parse(str(message.string)) if name}
        assert ours == theirs, f"placeholders differ for {message.id!r}: {ours} vs {theirs}"
        checked += 1
    assert checked > 100


def test_every_problem_title_is_translated() -> None:
    def subclasses(cls: type[AppError]) -> list[type[AppError]]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    # Every module that defines an error, so that its subclasses are registered.
    import app.main  # noqa: F401

    titles = {cls.title for cls in subclasses(AppError)} | {t for _, t in HTTP_TITLES.values()}
    missing = sorted(t for t in titles if translation(t, "fr") is None)
    assert not missing


def _literal_messages() -> list[tuple[str, int, str]]:
    """Messages written as literals where errors are raised: ``SomeError("…")``,
    ``field_error(field, "…")``, ``problem(status, code, "title", "detail")``; an
    f-string's values stand as ``x``."""
    found = []
    for path in sorted(APP_DIR.rglob("*.py")):
        relative = path.relative_to(APP_DIR)
        if relative.parts[0] in NOT_CLIENT_FACING or str(relative) in NOT_CLIENT_FACING:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None) or ""
            raises = name.endswith(("Error", "Failed")) or name in _app_error_names()
            if not raises and name not in MESSAGE_ARGUMENTS:
                continue
            for index in MESSAGE_ARGUMENTS.get(name, (0,)):
                if len(node.args) <= index:
                    continue
                text = _sample(node.args[index])
                if text is not None and text not in INTERNAL_MESSAGES:
                    found.append((str(relative), node.lineno, text))
    return found


def _app_error_names() -> set[str]:
    def names(cls: type) -> set[str]:
        return {cls.__name__, *(n for sub in cls.__subclasses__() for n in names(sub))}

    return names(AppError)


def _sample(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                parts.append("x")
        return "".join(parts)
    return None


def test_every_message_raised_in_the_code_is_translated() -> None:
    messages = _literal_messages()
    assert len(messages) > 40
    missing = [f"{file}:{line}: {text!r}" for file, line, text in messages if not _known(text)]
    assert not missing, "messages without French:\n" + "\n".join(missing)


def _known(text: str) -> bool:
    return translation(text, "fr", strict=True, samples=frozenset({"x"})) is not None


@pytest.mark.parametrize(
    ("model_field", "value"),
    [
        ((int, pydantic.Field(ge=1)), 0),
        ((int, pydantic.Field(le=5)), 9),
        ((int, ...), "abc"),
        ((int, ...), 1.5),
        ((str, pydantic.Field(max_length=3)), "abcd"),
        ((str, pydantic.Field(min_length=2)), "a"),
        ((list[int], pydantic.Field(max_length=1)), [1, 2]),
        ((bool, ...), "peut-être"),
        ((float, ...), "x"),
        ((str, ...), 12),
        ((list[str], ...), "x"),
    ],
)
def test_validation_messages_are_translated(
    model_field: tuple[object, object], value: object
) -> None:
    model = pydantic.create_model("Probe", value=model_field)  # type: ignore[call-overload]
    with pytest.raises(pydantic.ValidationError) as raised:
        model(value=value)
    for error in raised.value.errors():
        assert translation(error["msg"], "fr") is not None, error["msg"]


def test_a_missing_or_extra_field_is_translated() -> None:
    model = pydantic.create_model(
        "Probe", __config__=pydantic.ConfigDict(extra="forbid"), value=(int, ...)
    )
    with pytest.raises(pydantic.ValidationError) as raised:
        model(other=1)
    assert {translate(e["msg"], "fr") for e in raised.value.errors()} == {
        "Champ obligatoire",
        "Champ non prévu",
    }


def test_composed_messages_translate_their_parts() -> None:
    assert (
        translate("location.insee: unknown INSEE commune code '99999'", "fr")
        == "location.insee : code commune INSEE inconnu '99999'"
    )
    assert translate("cannot accept a match that is closed; it is final", "fr") == (
        "action impossible (accepter) sur un binôme à l'état closed ; cet état est définitif"
    )
    # Unknown text is left as it is, in every language.
    assert translate("something new", "fr") == "something new"
    assert translate("Field required", "en") == "Field required"


def test_the_most_specific_message_wins() -> None:
    ordered = entries("fr")
    assert ordered[0].literal_length >= ordered[-1].literal_length
    assert translate("unknown column 'x' (did you mean 'kind'?). Expected columns: a, b", "fr") == (
        "colonne inconnue 'x' (vouliez-vous dire 'kind' ?). Colonnes attendues : a, b"
    )


def test_every_import_column_has_a_distinct_french_header() -> None:
    french = labels("column", "fr")
    for kind, columns in COLUMNS.items():
        names = [column.name for column in columns]
        assert all(name in french for name in names), (kind, set(names) - set(french))
        headers = [french[name] for name in names]
        assert len(set(headers)) == len(headers)
        # A French header never names another English column (no ambiguity on reading).
        assert not (set(headers) - set(names)) & set(names)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr", "fr"),
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("en-GB,en;q=0.9,fr;q=0.5", "en"),
        ("de-DE,fr;q=0.3", "fr"),
        ("en;q=0,fr;q=0.1", "fr"),
        ("de", "en"),
        ("", "en"),
        (None, "en"),
        ("*", "en"),
        ("fr;q=abc", "en"),
        ("x" * 10_000, "en"),
    ],
)
def test_accept_language_negotiation(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected
