"""Querysets compiled to SQL once per process and run again with new parameter values.

Compiling a queryset can cost Django more CPU than PostgreSQL spends answering it (for
a post's detail, see docs/performance.md). For a query whose shape never changes, only
its values do (a slug, the current time), the SQL and the row layout can be kept and
reused: the ORM still writes the SQL, from the same querysets the rest of the code uses,
so there is no second copy of the visibility rules to drift apart.

Each varying value is given as a placeholder when the queryset is built: a stand-in that
nothing else in the query could equal (a NUL in a string, the year 1), since every
compiled parameter equal to it is replaced. A placeholder that does not reach the
parameters unchanged is refused when the query is prepared, not when it runs. On
PostgreSQL every value reaches the parameters as given (psycopg adapts it); SQLite's
backend turns datetimes into strings first, so a datetime placeholder is PostgreSQL-only.

A prepared query holds no per-request state: threads of one process share it. Only
selectors (``posts.selectors``, ``accounts.selectors``) use it, behind the reads it speeds
up: no caller of theirs knows it is there.
"""

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators


class PreparedQuery:
    """``queryset`` compiled once; :meth:`fetch` runs it with new values for the
    ``placeholders`` (name: the value the queryset was built with) and returns model
    instances as iterating the queryset would: ``select_related`` objects attached,
    annotations set as attributes. ``prefetch_related`` is not supported."""

    def __init__(self, queryset: QuerySet, **placeholders: Any) -> None:
        if queryset._prefetch_related_lookups:
            raise ValueError("PreparedQuery cannot prefetch: use select_related or an annotation")
        self.db = queryset.db
        self.compiler = queryset.query.get_compiler(using=self.db)
        try:
            self.sql, params = self.compiler.as_sql()
        except EmptyResultSet:  # e.g. an empty slice: no values can make it match
            self.sql, params = None, []
        self.params = list(params)
        self.positions: dict[str, list[int]] = {}
        if self.sql is None:
            self.positions = {name: [] for name in placeholders}
            return
        for name, value in placeholders.items():
            found = [index for index, param in enumerate(self.params) if param == value]
            if not found:
                raise ValueError(f"placeholder {name}={value!r} appears 0 times in {self.sql}")
            self.positions[name] = found
        # What ModelIterable works out for every query, worked out once.
        select, klass_info = self.compiler.select, self.compiler.klass_info
        self.model: type[Model] = klass_info["model"]
        fields = klass_info["select_fields"]
        self.model_columns = slice(fields[0], fields[-1] + 1)
        self.init_list = [column[0].target.attname for column in select[self.model_columns]]
        self.related_populators = get_related_populators(klass_info, select, self.db)
        self.annotation_columns = self.compiler.annotation_col_map
        self.converters = self.compiler.get_converters(
            [column[0] for column in select[: self.compiler.col_count]]
        )

    def fetch(self, **values: Any) -> list[Model]:
        """The rows for these placeholder values, as model instances."""
        if values.keys() != self.positions.keys():
            raise TypeError(f"expected values for {sorted(self.positions)}, got {sorted(values)}")
        if self.sql is None:
            return []
        params = list(self.params)
        for name, value in values.items():
            for position in self.positions[name]:
                params[position] = value
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        return list(self._instances(rows))

    def _instances(self, rows: list[tuple]) -> Iterator[Model]:
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        for row in rows:
            obj = self.model.from_db(self.db, self.init_list, row[self.model_columns])
            for populator in self.related_populators:
                populator.populate(row, obj)
            for name, column in self.annotation_columns.items():
                setattr(obj, name, row[column])
            yield obj
