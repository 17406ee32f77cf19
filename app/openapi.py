"""The published OpenAPI document: ``python -m app.openapi`` rewrites ``openapi.json``.

The repository keeps the document so that a change to the API shows in review; a test
checks that it matches the code.
"""

import json
import sys
from pathlib import Path
from typing import Any

PUBLISHED = Path(__file__).resolve().parent.parent / "openapi.json"


def document() -> dict[str, Any]:
    from app.main import create_app  # the application is only built when asked for

    return create_app().openapi()


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> None:
    target = Path((argv if argv is not None else sys.argv[1:] or [str(PUBLISHED)])[0])
    target.write_text(render(document()), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
