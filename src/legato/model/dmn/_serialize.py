"""The stored JSON form of a decision model.

The stored form keeps the FEEL text, never a compiled form: loading it builds the model
again, so every cell is checked once more and a stored model cannot bypass validation. It
carries a `format` version, as stored process definitions do, for a later upgrade path.
Lines of the DMN file are kept so that errors found after a reload still point into it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from legato.errors import ModelInvalid, Problem
from legato.model.dmn._model import Decision, DecisionModel, LiteralExpression, UnsupportedLogic
from legato.model.dmn._table import Aggregation, DecisionTable, HitPolicy, InputClause, OutputClause, Rule

__all__ = ["FORMAT_VERSION", "from_dict", "to_dict"]

FORMAT_VERSION = 1

T = TypeVar("T")


def to_dict(model: DecisionModel) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "id": model.id,
        "name": model.name,
        "namespace": model.namespace,
        "decisions": [_decision_to_dict(decision) for decision in model.decisions.values()],
    }


def from_dict(data: Any) -> DecisionModel:
    """Build a model from its stored form; malformed data raises ModelInvalid."""
    data = _object(data, "decision model")
    version = data.get("format", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise _invalid(None, f"unknown decision model format version {version!r}")
    decisions = [_decision_from_dict(raw) for raw in _list(data, "decisions", "decision model")]
    return DecisionModel(
        id=_text(data, "id", "decision model"),
        name=_optional(data, "name", "decision model"),
        namespace=_optional(data, "namespace", "decision model"),
        decisions={decision.id: decision for decision in decisions},
    )


def _decision_to_dict(decision: Decision) -> dict[str, Any]:
    logic = decision.logic
    common = {"id": decision.id, "name": decision.name, "required_decisions": list(decision.required_decisions)}
    if isinstance(logic, LiteralExpression):
        body: dict[str, Any] = {
            "literal_expression": _lined(logic, id=logic.id, text=logic.text, type_ref=logic.type_ref)
        }
    elif isinstance(logic, UnsupportedLogic):
        body = {"unsupported": _lined(logic, construct=logic.construct, reason=logic.reason)}
    else:
        body = {"decision_table": _table_to_dict(logic)}
    return _lined(decision, **common, **body)


def _table_to_dict(table: DecisionTable) -> dict[str, Any]:
    return _lined(
        table,
        id=table.id,
        hit_policy=str(table.hit_policy),
        aggregation=None if table.aggregation is None else str(table.aggregation),
        inputs=[
            _lined(clause, id=clause.id, label=clause.label, expression=clause.expression, type_ref=clause.type_ref)
            for clause in table.inputs
        ],
        outputs=[
            _lined(
                clause,
                id=clause.id,
                name=clause.name,
                label=clause.label,
                type_ref=clause.type_ref,
                output_values=clause.output_values,
                default=clause.default,
            )
            for clause in table.outputs
        ],
        rules=[
            _lined(
                rule,
                id=rule.id,
                input_entries=list(rule.input_entries),
                output_entries=list(rule.output_entries),
                description=rule.description,
                annotations=list(rule.annotations),
            )
            for rule in table.rules
        ],
        annotation_names=list(table.annotation_names),
    )


def _lined(item: Any, **fields: Any) -> dict[str, Any]:
    return {**fields, "line": item.line} if item.line is not None else fields


def _decision_from_dict(raw: Any) -> Decision:
    raw = _object(raw, "decision")
    where = _text(raw, "id", "decision")
    logic: DecisionTable | LiteralExpression | UnsupportedLogic
    if "decision_table" in raw:
        logic = _table_from_dict(_object(raw["decision_table"], where))
    elif "literal_expression" in raw:
        literal = _object(raw["literal_expression"], where)
        logic = LiteralExpression(
            id=_optional(literal, "id", where),
            text=_text(literal, "text", where),
            type_ref=_optional(literal, "type_ref", where),
            line=_line(literal, where),
        )
    elif "unsupported" in raw:
        unsupported = _object(raw["unsupported"], where)
        logic = UnsupportedLogic(
            construct=_text(unsupported, "construct", where),
            reason=_text(unsupported, "reason", where),
            line=_line(unsupported, where),
        )
    else:
        raise _invalid(where, "a decision needs a decision_table or a literal_expression (or an unsupported entry)")
    return Decision(
        id=where,
        name=_optional(raw, "name", where),
        logic=logic,
        required_decisions=tuple(_texts(raw, "required_decisions", where)),
        line=_line(raw, where),
    )


def _table_from_dict(raw: dict[str, Any]) -> DecisionTable:
    where = _optional(raw, "id", "decision table")
    hit_policy = _choice(HitPolicy, raw.get("hit_policy", "UNIQUE"), where)
    aggregation = None if raw.get("aggregation") is None else _choice(Aggregation, raw["aggregation"], where)
    inputs = [
        InputClause(
            id=_optional(item, "id", where),
            label=_optional(item, "label", where),
            expression=_text(item, "expression", where),
            type_ref=_optional(item, "type_ref", where),
            line=_line(item, where),
        )
        for item in _objects(raw, "inputs", where)
    ]
    outputs = [
        OutputClause(
            id=_optional(item, "id", where),
            name=_optional(item, "name", where),
            label=_optional(item, "label", where),
            type_ref=_optional(item, "type_ref", where),
            output_values=_optional(item, "output_values", where),
            default=_optional(item, "default", where),
            line=_line(item, where),
        )
        for item in _objects(raw, "outputs", where)
    ]
    rules = [
        Rule(
            id=_text(item, "id", where),
            input_entries=tuple(_texts(item, "input_entries", where)),
            output_entries=tuple(_texts(item, "output_entries", where)),
            description=_optional(item, "description", where),
            annotations=tuple(_texts(item, "annotations", where)),
            line=_line(item, where),
        )
        for item in _objects(raw, "rules", where)
    ]
    return DecisionTable(
        id=where,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        rules=tuple(rules),
        hit_policy=hit_policy,
        aggregation=aggregation,
        annotation_names=tuple(_texts(raw, "annotation_names", where)),
        line=_line(raw, where),
    )


# --- checked reading ------------------------------------------------------------------------


def _invalid(where: str | None, message: str) -> ModelInvalid:
    return ModelInvalid([Problem(element=where, message=message)])


def _object(value: Any, where: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(where, f"expected an object, got {type(value).__name__}")
    return value


def _list(data: dict[str, Any], key: str, where: str | None) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _invalid(where, f"{key} must be a list, got {type(value).__name__}")
    return value


def _objects(data: dict[str, Any], key: str, where: str | None) -> list[dict[str, Any]]:
    return [_object(item, where) for item in _list(data, key, where)]


def _texts(data: dict[str, Any], key: str, where: str | None) -> list[str]:
    items = _list(data, key, where)
    if not all(isinstance(item, str) for item in items):
        raise _invalid(where, f"{key} must be a list of text")
    return items


def _text(data: dict[str, Any], key: str, where: str | None) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _invalid(where, f"{key} must be text, got {type(value).__name__}")
    return value


def _optional(data: dict[str, Any], key: str, where: str | None) -> str | None:
    return None if data.get(key) is None else _text(data, key, where)


def _line(data: dict[str, Any], where: str | None) -> int | None:
    value = data.get("line")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise _invalid(where, f"line must be a whole number, got {type(value).__name__}")
    return value


def _choice(kind: Callable[[str], T], value: Any, where: str | None) -> T:
    try:
        return kind(value)
    except ValueError:
        raise _invalid(where, f"unknown value {value!r}") from None
