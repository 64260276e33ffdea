"""Custom ORM lookups, registered in CommonConfig.ready()."""

from typing import Any

from django.db.models import Lookup
from django.db.models.lookups import In


class AnyOf(Lookup):
    """`field__any_of=[...]`: `field = ANY(%s)` on Postgres, with the whole list as one
    array parameter; `field IN (...)` elsewhere.

    `__in` writes one placeholder per value: for the tree service's batches of 100 UUIDs,
    building that query and having psycopg rewrite its 100 placeholders cost more CPU
    than Postgres spent answering it. One parameter also makes it one prepared statement
    whatever the batch size.
    """

    lookup_name = "any_of"

    def get_prep_lookup(self) -> list[Any]:
        # NULL never equals anything, and in an array it turns `NOT (x = ANY(...))` into
        # NULL for every row; `__in` drops it too.
        return [
            self.lhs.output_field.get_prep_value(value) for value in self.rhs if value is not None
        ]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return In(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [
            self.lhs.output_field.get_db_prep_value(value, connection, prepared=True)
            for value in self.rhs
        ]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]
