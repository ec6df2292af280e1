"""`field__any=[...]`: membership in a list of values as ONE parameter on PostgreSQL
(`field = ANY(%s)`, the list sent as an array), `IN (...)` elsewhere. The daily jobs read facts for
batches of thousands of members: an IN list of 5,000 placeholders costs more to build and parse
than the query itself."""
from django.db.models import Field, ForeignKey, Lookup


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [list(value)])

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            return "1 = 0", list(lhs_params)
        if connection.vendor == "postgresql":
            if all(type(v) is int for v in values):
                # Whole numbers (ids) go as one array literal: psycopg adapts a list item by item,
                # a tenth of a second per batch of ids.
                return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, "{" + ",".join(map(str, values)) + "}"]
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(AnyOf)
ForeignKey.register_lookup(AnyOf)
