"""DMN 1.3 decisions: decision tables and literal expressions, linked by requirements.

Build a model from data (or `legato.formats.dmn_xml.load_dmn` from a DMN file), then
`evaluate(model, decision_id, variables)`. All FEEL in the model is compiled when the model
is built; docs/dmn.md is the user reference.

    model = DecisionModel(id="support", decisions={"Level": Decision(id="Level", logic=DecisionTable(...))})
    evaluate(model, "Level", {"spend": 300}).value
"""

from __future__ import annotations

from legato.model.dmn._evaluate import DecisionResult, evaluate
from legato.model.dmn._model import Decision, DecisionModel, LiteralExpression, UnsupportedLogic
from legato.model.dmn._serialize import FORMAT_VERSION, from_dict, to_dict
from legato.model.dmn._table import (
    Aggregation,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
)

__all__ = [
    "FORMAT_VERSION",
    "Aggregation",
    "Decision",
    "DecisionModel",
    "DecisionResult",
    "DecisionTable",
    "HitPolicy",
    "InputClause",
    "LiteralExpression",
    "OutputClause",
    "Rule",
    "UnsupportedLogic",
    "evaluate",
    "from_dict",
    "to_dict",
]
