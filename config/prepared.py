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
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler


class PreparedQuery:
    """``queryset`` compiled once; :meth:`fetch` runs it with new values for the
    ``placeholders`` (name: the value the queryset was built with) and returns model
    instances as iterating the queryset would: ``select_related`` objects attached,
    annotations set as attributes. ``prefetch_related`` is not supported.

    The database is chosen when it runs, as a queryset's is: the router's choice for the
    read then (a replica while a request is served, see ``config.replicas``), unless the
    queryset named one with ``using()``. It is compiled once per database it runs on."""

    def __init__(self, queryset: QuerySet, **placeholders: Any) -> None:
        if queryset._prefetch_related_lookups:
            raise ValueError("PreparedQuery cannot prefetch: use select_related or an annotation")
        self.query = queryset.query
        self.model: type[Model] = queryset.model
        self.fixed_db: str | None = queryset._db
        self.placeholders = placeholders
        self._compiled: dict[str, _Compiled] = {}
        # Compiled now on the primary, so that a placeholder that never reaches the
        # parameters is refused when the query is prepared, not when it first runs.
        self._compiled_for(self.fixed_db or DEFAULT_DB_ALIAS)

    def _compiled_for(self, db: str) -> "_Compiled":
        compiled = self._compiled.get(db)
        if compiled is None:
            # Compiling sets up the query it is given: each compiles a copy of its own, so
            # threads may compile at once (the same result, and the last one is kept).
            compiler = self.query.clone().get_compiler(using=db)
            compiled = self._compiled[db] = _Compiled(compiler, self.placeholders)
        return compiled

    def fetch(self, **values: Any) -> list[Model]:
        """The rows for these placeholder values, as model instances."""
        if values.keys() != self.placeholders.keys():
            raise TypeError(f"expected values for {sorted(self.placeholders)}, got {sorted(values)}")
        db = self.fixed_db or router.db_for_read(self.model)
        compiled = self._compiled_for(db)
        if compiled.sql is None:
            return []
        params = list(compiled.params)
        for name, value in values.items():
            for position in compiled.positions[name]:
                params[position] = value
        with connections[db].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return list(compiled.instances(db, rows))


class _Compiled:
    """A query's SQL on one database, and what ModelIterable works out for every query,
    worked out once."""

    def __init__(self, compiler: SQLCompiler, placeholders: dict[str, Any]) -> None:
        self.compiler = compiler
        try:
            self.sql, params = compiler.as_sql()
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
        select, klass_info = compiler.select, compiler.klass_info
        self.model: type[Model] = klass_info["model"]
        fields = klass_info["select_fields"]
        self.model_columns = slice(fields[0], fields[-1] + 1)
        self.init_list = [column[0].target.attname for column in select[self.model_columns]]
        # Instances of related models carry the database they were read from, as the
        # queryset's would (their own reads follow it).
        self.related_populators = get_related_populators(klass_info, select, compiler.using)
        self.annotation_columns = compiler.annotation_col_map
        self.converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])

    def instances(self, db: str, rows: list[tuple]) -> Iterator[Model]:
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        for row in rows:
            obj = self.model.from_db(db, self.init_list, row[self.model_columns])
            for populator in self.related_populators:
                populator.populate(row, obj)
            for name, column in self.annotation_columns.items():
                setattr(obj, name, row[column])
            yield obj
