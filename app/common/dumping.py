"""`FastDump`: the same output as a marshmallow schema's `dump`, without marshmallow's per-field machinery.

Board and inbox pages dump 10 rows of 30-odd fields each (the board: plus their instructions, nested),
and marshmallow spends several microseconds per field: `Field.serialize`, `get_value`, the accessor,
the type's `_serialize`. A schema class that mixes in `FastDump` is compiled, once, into a list of
(key, attribute, converter) built from its declared fields; dumping is then one loop of plain calls.

The output is the one marshmallow gives, by construction:
- only field types whose `_serialize` is known exactly get a fast converter (Integer, Float, String,
  Boolean, DateTime and its subclasses without a custom format, List of these, Nested of FastDump
  schemas); any other field, any field with a `dump_default`, and a schema with hooks, `only` or
  `exclude` use marshmallow's own code;
- a value is read as marshmallow reads it (`obj[key]`, else the attribute), and a missing one is left
  out, as marshmallow leaves it out;
- `tests/test_fast_dump.py` compares both on real rows.
"""
from __future__ import annotations

from typing import Any, Callable

import marshmallow as ma
from marshmallow.utils import missing

F = ma.fields
_MISSING = missing


def _value(obj, key: str):
    """marshmallow's `utils._get_value_for_key` (keys here never contain a dot)."""
    if not hasattr(obj, "__getitem__"):
        return getattr(obj, key, _MISSING)
    try:
        return obj[key]
    except (KeyError, IndexError, TypeError, AttributeError):
        return getattr(obj, key, _MISSING)


def _converter(field: F.Field) -> Callable[[Any, Any], Any] | None:
    """`convert(value, obj)` with the output of `field._serialize(value, attr, obj)`, or None: no fast path."""
    kind = type(field)
    if kind is F.Integer or kind is F.Float:
        if field.as_string:
            return None
        number = field.num_type
        return lambda value, obj: None if value is None else number(value)
    if kind is F.String:
        return lambda value, obj: None if value is None else (
            value if type(value) is str else field._serialize(value, None, obj))
    if kind is F.Boolean or kind is F.Raw:
        return lambda value, obj: value  # Field._serialize: the value as it is
    if isinstance(field, F.DateTime) and not isinstance(field, (F.Date, F.Time)):
        if type(field)._serialize is F.DateTime._serialize and (field.format or "iso") in ("iso", "iso8601"):
            return lambda value, obj: None if value is None else value.isoformat()
        # A subclass with its own _serialize (the tenant's zone): its own code, per value.
        return lambda value, obj: field._serialize(value, None, obj)
    if kind is F.List:
        inner = _converter(field.inner)
        if inner is None:
            return None
        return lambda value, obj: None if value is None else [inner(each, obj) for each in value]
    if kind is F.Nested and isinstance(field.nested, type) and issubclass(field.nested, FastDump):
        schema = field.schema
        if schema.only or schema.exclude or field.many:
            return None
        if schema.many:
            return lambda value, obj: None if value is None else schema.dump(value)
        dump_one = type(schema)._dumper()
        return lambda value, obj: None if value is None else dump_one(value)
    return None


class FastDump:
    """Mix into a `ma.Schema` subclass (before it): `dump` gives the same result, faster."""

    _compiled: dict = {}

    @classmethod
    def _dumper(cls) -> Callable[[Any], dict]:
        dumper = FastDump._compiled.get(cls)
        if dumper is None:
            dumper = FastDump._compiled[cls] = cls._compile()
        return dumper

    @classmethod
    def _compile(cls) -> Callable[[Any], dict]:
        schema = cls()
        plan = []
        for name, field in schema.dump_fields.items():
            convert = _converter(field) if field.dump_default is _MISSING else None
            key = field.data_key if field.data_key is not None else name
            attribute = field.attribute if field.attribute is not None else name
            if convert is None or "." in attribute:
                # marshmallow's own path for this field; `accessor` as Schema._serialize passes it.
                plan.append((key, None, lambda obj, field=field, name=name: field.serialize(
                    name, obj, accessor=schema.get_attribute)))
            else:
                plan.append((key, attribute, convert))

        def dump(obj) -> dict:
            out = {}
            for key, attribute, convert in plan:
                if attribute is None:
                    value = convert(obj)
                    if value is not _MISSING:
                        out[key] = value
                    continue
                value = _value(obj, attribute)
                if value is not _MISSING:
                    out[key] = convert(value, obj)
            return out

        return dump

    def _fast(self) -> bool:
        return not (self.only or self.exclude or self._hooks_present())

    def _hooks_present(self) -> bool:
        return any(self._hooks.values())

    def dump(self, obj, *, many: bool | None = None):
        many = self.many if many is None else bool(many)
        if not self._fast():
            return super().dump(obj, many=many)
        dump_one = type(self)._dumper()
        if many:
            return [dump_one(each) for each in obj]
        return dump_one(obj)
