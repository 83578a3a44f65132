"""Raw SQL that only PostgreSQL runs, for the migrations of features SQLite does without
(the search trigger, the tag links' copies): on SQLite these operations do nothing."""

from collections.abc import Callable, Sequence
from typing import Any


def run(statements: Sequence[str]) -> Callable[[Any, Any], None]:
    def operation(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation
