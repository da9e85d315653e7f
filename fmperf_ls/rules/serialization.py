"""Serialization rules (FMP5xx): schemas built per call, heavy job payloads, N+1 in dumps.

marshmallow and RQ hide their costs behind one call: building a schema
deep-copies its declared fields, enqueueing pickles every argument into Redis,
and dumping a list of ORM objects reads each field on each object, which is
a query per object for every lazy relationship a field touches. The rules
here find those calls and read the schema and the query that feed them.
"""

# mypy: disable-error-code="attr-defined, union-attr"

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from parso.tree import NodeOrLeaf

from fmperf_ls.analysis.imports import dotted_parts
from fmperf_ls.analysis.infer import Kind, chain_prefix
from fmperf_ls.analysis.invariance import fresh_name, root_name
from fmperf_ls.analysis.marshmallow import (
    MARSHMALLOW_MODULES,
    SchemaClass,
    schema_class_names,
    schema_for_call,
    strings_of,
    uses_marshmallow,
)
from fmperf_ls.analysis.models import DYNAMIC, MappedClass, Relationship
from fmperf_ls.analysis.orm_flow import Elements, OrmFlow
from fmperf_ls.analysis.outline import dotted
from fmperf_ls.analysis.pyomo import call_arguments
from fmperf_ls.analysis.scopes import definitions_before, loops_around, scope_of
from fmperf_ls.analysis.source import Position, Range, inner_nodes
from fmperf_ls.rules.base import (
    Confidence,
    Edit,
    Finding,
    Fix,
    Rule,
    RuleDocs,
    Safety,
    Severity,
    clean,
    flagged,
    register,
)

if TYPE_CHECKING:
    from fmperf_ls.analysis.outline import Outline
    from fmperf_ls.engine import Context

logger = logging.getLogger(__name__)

_LITERALS = ("number", "string", "strings", "keyword")


def _calls(chain: NodeOrLeaf) -> Iterator[tuple[int, NodeOrLeaf]]:
    """(index, trailer) of each call trailer in a chain."""
    children = chain.children  # type: ignore[attr-defined]
    for index in range(1, len(children)):
        trailer = children[index]
        if trailer.type == "trailer" and trailer.children[0].value == "(":
            yield index, trailer


def _first_call(chain: NodeOrLeaf) -> tuple[NodeOrLeaf, int] | None:
    """The dotted callee and trailer index of the chain's first call (`a.B(...)`)."""
    for index, _ in _calls(chain):
        callee = chain_prefix(chain, index)
        return (callee, index) if dotted_parts(callee) else None
    return None


def _is_literal(node: NodeOrLeaf) -> bool:
    if node.type in _LITERALS:
        return node.type != "keyword" or node.value in ("True", "False", "None")  # type: ignore
    if node.type == "atom" and node.children[0].value in ("(", "["):  # type: ignore
        if len(node.children) == 2:  # type: ignore[attr-defined]
            return True
        inner = node.children[1]  # type: ignore[attr-defined]
        items = inner.children[::2] if inner.type == "testlist_comp" else [inner]
        return all(_is_literal(item) for item in items)
    return False


def _snake(name: str) -> str:
    first = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", first).lower()


def _flow(ctx: Context) -> OrmFlow:
    """An OrmFlow over this file, after the file's own models are in the index."""
    flow = getattr(ctx, "_orm_flow", None)
    if flow is None or flow.ctx is not ctx:
        try:
            ctx.project.update(ctx.source.path, ctx.source.text, ctx.source)
        except Exception:  # the index logs its own failures; the rule goes on without it
            logger.debug("could not index %s", ctx.source.path, exc_info=True)
        flow = OrmFlow(ctx)
        ctx._orm_flow = flow  # type: ignore[attr-defined]
    return flow


# -- FMP501 ---------------------------------------------------------------------


@register
class SchemaPerCall(Rule):
    code = "FMP501"
    name = "schema-built-per-call"
    summary = "A marshmallow schema with constant arguments is built on every call"
    severity = Severity.INFORMATION
    prefilter = ("Schema",)
    in_tests = False
    docs = RuleDocs(
        what=(
            "Finds a marshmallow schema class (a `Schema`, flask-marshmallow `ma.Schema`, "
            "marshmallow-sqlalchemy `SQLAlchemySchema`/`SQLAlchemyAutoSchema` subclass of "
            "this file, or a `*Schema` imported from a schemas module) instantiated inside "
            "a function body or a loop with constant arguments only."
        ),
        why=(
            "Building a schema deep-copies every declared field and resolves its options: "
            "tens to hundreds of microseconds per instance, paid again on every request, "
            "and once per element, O(n) schema builds, inside a loop. The same instance can "
            "serve every call, because its configuration never changes."
        ),
        example=(
            "def list_sensors():\n"
            "    return SensorSchema(many=True).dump(Sensor.query.all())"
        ),
        instead=(
            "sensors_schema = SensorSchema(many=True)\n\n\n"
            "def list_sensors():\n"
            "    return sensors_schema.dump(Sensor.query.all())"
        ),
        false_alarms=(
            "Not reported when any argument varies with the call (`only`, `exclude`, "
            "`context`, `many` or `partial` computed from the inputs), when the instance is "
            "changed after it is built (`schema.context[...] = ...`), for classes defined "
            "inside functions, or at module and class level. The fix is unsafe: a shared "
            "instance also shares whatever a caller stores on it (marshmallow 3's "
            "`context`), which per-call instances kept apart."
        ),
        references=(
            "https://marshmallow.readthedocs.io/en/stable/quickstart.html",
        ),
    )
    examples = (
        flagged(
            """
            from marshmallow import Schema, fields


            class SensorSchema(Schema):
                id = fields.Int()
                name = fields.Str()


            def list_sensors(sensors):
                return SensorSchema(many=True).dump(sensors)
            """,
            "10:11-10:34",
            fixed="""
            from marshmallow import Schema, fields


            class SensorSchema(Schema):
                id = fields.Int()
                name = fields.Str()


            sensor_schema_many = SensorSchema(many=True)


            def list_sensors(sensors):
                return sensor_schema_many.dump(sensors)
            """,
        ),
        flagged(
            """
            from flexmeasures.data.schemas.sensors import SensorSchema
            from marshmallow import ValidationError


            def validate_all(payloads):
                errors = []
                for payload in payloads:
                    try:
                        SensorSchema(partial=True).load(payload)
                    except ValidationError as error:
                        errors.append(error)
                return errors
            """,
            "9:12-9:38",
            fixed="""
            from flexmeasures.data.schemas.sensors import SensorSchema
            from marshmallow import ValidationError

            sensor_schema = SensorSchema(partial=True)


            def validate_all(payloads):
                errors = []
                for payload in payloads:
                    try:
                        sensor_schema.load(payload)
                    except ValidationError as error:
                        errors.append(error)
                return errors
            """,
            note="an imported schema, built once per element of a loop: a warning",
        ),
        flagged(
            """
            from marshmallow import Schema, fields


            class AssetSchema(Schema):
                name = fields.Str()


            asset_schema = AssetSchema()


            def show(asset):
                return AssetSchema().dump(asset)
            """,
            "12:11-12:24",
            fixed="""
            from marshmallow import Schema, fields


            class AssetSchema(Schema):
                name = fields.Str()


            asset_schema = AssetSchema()


            def show(asset):
                return asset_schema.dump(asset)
            """,
            note="an equal module-level instance exists: reuse it",
        ),
        flagged(
            """
            from marshmallow import ValidationError


            def deprecated_fields(attributes):
                from myapp.schemas.storage import StorageSchema

                found = []
                for attribute in attributes:
                    for field in StorageSchema().fields.values():
                        if field.metadata.get("deprecated") == attribute:
                            found.append(field)
                return found
            """,
            "9:21-9:36",
            note="imported inside the function (an import cycle): advice to build it before "
            "the loop, no module-level fix",
        ),
        clean(
            """
            import click
            from marshmallow import fields
            from myapp.schemas import AccountSchema, SensorSchema


            def openapi_components(spec):
                for name, schema in [("Account", AccountSchema(partial=True))]:
                    spec.components.schema(name, schema=schema)


            @click.command()
            def add_sensor(args):
                return SensorSchema().validate(args)
            """,
            note="handed to a spec, not used to serialize here; a CLI command runs once",
        ),
        clean(
            """
            from marshmallow import Schema, fields


            class AssetSchema(Schema):
                id = fields.Int()
                name = fields.Str()


            asset_schema = AssetSchema()


            def list_assets(assets, fields_in_response):
                return AssetSchema(many=True, only=fields_in_response).dump(assets)


            def with_context(asset, user):
                schema = AssetSchema()
                schema.context["user"] = user
                return schema.dump(asset)
            """,
            note="arguments from the inputs; an instance that carries per-call state",
        ),
        clean(
            """
            from pydantic import BaseModel
            from myapp.graphql import QuerySchema


            class UserSchema(BaseModel):
                name: str


            def parse(rows):
                return [UserSchema(name=row) for row in rows], QuerySchema()
            """,
            note="pydantic models and *Schema classes from non-schema modules are not marshmallow",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """A marshmallow file calling, inside a function, a schema class of its own or an
        imported `*Schema` of a schemas module with literal arguments only, whose name is
        bound at module level unless the call is in a loop."""
        if not uses_marshmallow(ctx):
            return False  # schemas are only recognised in files that import marshmallow
        classes = schema_class_names(outline)
        functions = list(outline.nodes(ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        used = _AstUses(outline)
        for call in outline.nodes(ast.Call):
            if _ast_schema_call(ctx, call, classes, likely=True) and _ast_literal_call(call) and (
                used.here(call) and _ast_runs_per_call(call, functions)
                and (_ast_bound_at_module(outline, call) or outline.in_loop(call))
            ):
                return True
        return False

    def check(self, ctx: Context) -> Iterator[Finding]:
        for chain in ctx.source.nodes("atom_expr", "power"):
            found = self._schema_call(ctx, chain)
            finding = self._finding(ctx, chain, *found) if found is not None else None
            if finding is not None:
                yield finding

    def _schema_call(self, ctx: Context, chain: NodeOrLeaf):
        first = _first_call(chain)
        if first is None:
            return None  # no call, or a callee that is not a dotted name
        callee, index = first
        schema = schema_for_call(ctx, callee, fields=False)
        if schema is None:
            return None  # not a marshmallow schema class
        scope = scope_of(chain)
        if scope.type not in ("funcdef", "lambdef"):
            return None  # module or class level: built once already
        if schema.local and schema.node is not None and scope_of(schema.node).type != (
            "file_input"
        ):
            return None  # a class defined in a function exists per call anyway
        if _runs_once(scope):
            return None  # a CLI command or setup function runs once per process
        trailer = chain.children[index]  # type: ignore[attr-defined]
        positional, keywords = call_arguments(trailer)
        if not all(_is_literal(value) for value in [*positional, *keywords.values()]):
            return None  # only/exclude/many/context vary with the call's inputs
        if not _used_here(chain, index):
            return None  # handed over (a spec, a registry): built for someone else, once
        if _changed_after(chain, index):
            return None  # the instance carries per-call state
        return schema, index

    def _finding(self, ctx: Context, chain, schema: SchemaClass, index: int) -> Finding | None:
        span = Range.between(chain.children[0], chain.children[index])
        call = re.sub(r"\(\s+|\s+\)", lambda m: m.group().strip(),
                      " ".join(ctx.source.slice(span).split()))
        in_loop = bool(loops_around(chain))
        module_level = _bound_at_module(ctx, chain.children[0])
        if not module_level and not in_loop:
            return None  # imported inside the function (an import cycle): no module instance
        where = "at module level" if module_level else "before the loop"
        message = (
            f"{call} is built on every " + ("iteration" if in_loop else "call")
            + f" with constant arguments; build it once {where} and reuse it"
        )
        severity = Severity.WARNING if in_loop else Severity.INFORMATION
        fix = _module_instance_fix(ctx, schema, call, span) if module_level else None
        return self.finding(span, message, severity=severity, fix=fix,
                            cost="one schema build (a deep copy of its fields) per call")


_SERIALIZING = frozenset({"dump", "dumps", "load", "loads", "validate", "fields",
                         "deserialize", "serialize", "jsonify", "load_instance"})


def _runs_once(function: NodeOrLeaf) -> bool:
    """Decorated as a command (`@click.command()`, `@app.cli.command(...)`)."""
    parent = function.parent
    if parent is None or parent.type != "decorated":
        return False
    return "command" in parent.children[0].get_code(include_prefix=False)


def _used_here(chain: NodeOrLeaf, index: int) -> bool:
    """The instance serializes or validates here: `X().dump(...)`, `s = X(); s.load(...)`."""
    children = chain.children  # type: ignore[attr-defined]
    if index + 1 < len(children):
        return _attribute_after(children[index + 1]) in _SERIALIZING
    statement = chain.parent
    if statement is None or statement.type != "expr_stmt" or statement.children[-1] is not chain:
        return False
    target = statement.children[0]
    if target.type != "name":
        return False
    for node in inner_nodes(scope_of(chain)):
        if node.type in ("atom_expr", "power") and node.children[0].type == "name" and (
            node.children[0].value == target.value  # type: ignore[attr-defined]
            and _attribute_after(node.children[1]) in _SERIALIZING  # type: ignore[operator]
        ):
            return True
    return False


def _attribute_after(trailer: NodeOrLeaf) -> str | None:
    if trailer.type == "trailer" and trailer.children[0].value == ".":  # type: ignore
        return trailer.children[1].value  # type: ignore[attr-defined]
    return None


def _bound_at_module(ctx: Context, name: NodeOrLeaf) -> bool:
    """The callee's first name is imported, defined or assigned at module level."""
    if name.type != "name":
        return False
    for use in ctx.source.tree.get_used_names().get(name.value, []):  # type: ignore
        if not use.is_definition() or use.parent.type == "trailer":
            continue
        holder = use.parent if use.parent.type in ("classdef", "funcdef") else use
        if scope_of(holder).type == "file_input":
            return True
    return False


def _changed_after(chain: NodeOrLeaf, index: int) -> bool:
    """`schema = X(); schema.context[...] = v` or `X().context = v`: per-call state."""
    children = chain.children  # type: ignore[attr-defined]
    if index + 1 < len(children) and children[index + 1].children[0].value == "." and (
        children[index + 1].children[1].value == "context"
    ):
        return True
    statement = chain.parent
    if statement is None or statement.type != "expr_stmt" or statement.children[-1] is not chain:
        return False
    target = statement.children[0]
    if target.type != "name":
        return True  # stored into an attribute or a container: shared beyond this call
    function = scope_of(chain)
    for node in inner_nodes(function):
        if node.type == "expr_stmt" and root_name(node.children[0]) == target.value and (
            node.children[0].type in ("atom_expr", "power")  # type: ignore[attr-defined]
        ):
            return True
    return False


def _module_instance_fix(ctx: Context, schema: SchemaClass, call: str, span: Range) -> Fix:
    existing = _existing_instance(ctx, call)
    if existing is not None:
        return Fix(f"Reuse the module-level {existing}", (Edit(span, existing),), Safety.UNSAFE)
    many = "many=True" in call.replace(" ", "")
    name = fresh_name(ctx.source, _snake(schema.name) + ("_many" if many else ""))
    insertion = _module_insertion(ctx, schema, f"{name} = {call}")
    edits = (insertion, Edit(span, name))
    return Fix(f"Build {name} once at module level", edits, Safety.UNSAFE)


def _existing_instance(ctx: Context, call: str) -> str | None:
    """A module-level `name = <the same call>` to reuse."""
    wanted = call.replace(" ", "")
    for statement in ctx.source.tree.children:
        if statement.type != "simple_stmt" or statement.children[0].type != "expr_stmt":
            continue
        children = statement.children[0].children
        if len(children) == 3 and children[0].type == "name" and children[1].value == "=" and (
            children[2].get_code(include_prefix=False).replace(" ", "") == wanted
        ):
            return children[0].value
    return None


def _module_insertion(ctx: Context, schema: SchemaClass, line: str) -> Edit:
    """After the schema class when it is defined here, else after the imports."""
    if schema.node is not None and schema.local:
        node = schema.node
        parent = node.parent
        if parent is not None and parent.type == "decorated":
            node = parent
        end = Range.of(node).end
        text = f"\n\n{line}\n"
        if end.column != 0:
            text = "\n" + text
        return Edit(Range(end, end), text)
    line_number = 0
    for child in ctx.source.tree.children:
        if child.type == "simple_stmt" and child.children[0].type in ("import_name",
                                                                       "import_from"):
            line_number = child.end_pos[0] - 1
    at = Position(line_number, 0)
    return Edit(Range(at, at), f"\n{line}\n")


# -- FMP502 ---------------------------------------------------------------------

_ENQUEUE = {"enqueue": 1, "enqueue_at": 2, "enqueue_in": 2}
"""Method -> index of the first payload argument (after the function and the time)."""
_EXPLICIT = {"enqueue_call", "create"}
_RQ_OPTIONS = frozenset({
    "job_timeout", "timeout", "result_ttl", "ttl", "failure_ttl", "description", "depends_on",
    "job_id", "at_front", "meta", "retry", "on_success", "on_failure", "on_stopped",
    "pipeline", "connection", "repeat", "group_id", "func", "f", "origin", "status", "id",
    "serializer", "queue_name",
})  # fmt: skip


@register
class HeavyJobPayload(Rule):
    code = "FMP502"
    name = "heavy-job-payload"
    summary = "An ORM object, DataFrame or Series is pickled into an RQ job; pass ids"
    severity = Severity.WARNING
    prefilter = ("enqueue", "Job.create")
    docs = RuleDocs(
        what=(
            "Finds a DataFrame, a Series, a mapped ORM object or a list of them passed as "
            "an argument to RQ's `enqueue`, `enqueue_call`, `enqueue_at`, `enqueue_in` or "
            "`Job.create`."
        ),
        why=(
            "RQ pickles every argument into Redis: a frame of a year of 15-minute readings "
            "is megabytes per job, O(rows) to write and read back, held in Redis memory. "
            "An ORM object arrives detached in the worker, with the state it had when "
            "enqueued, and every lazy relationship read on it fails or reloads; pickling "
            "it also drags along whatever it had loaded."
        ),
        example="queue.enqueue(make_schedule, sensor, start, end, prices)",
        instead=(
            "queue.enqueue(make_schedule, sensor.id, start, end)\n\n"
            "def make_schedule(sensor_id, start, end):\n"
            "    sensor = db.session.get(Sensor, sensor_id)\n"
            "    prices = load_prices(sensor, start, end)"
        ),
        false_alarms=(
            "Only arguments known to be frames, series or mapped objects are reported "
            "(from annotations, constructors, queries and loops over queries), only on "
            "queues of a file that imports rq or on receivers named like a queue. Small "
            "frames built for the job are still reported: the job is then better off "
            "receiving the parameters that build them. Advice only."
        ),
        references=("https://python-rq.org/docs/jobs/",),
    )
    examples = (
        flagged(
            """
            import pandas as pd
            from rq import Queue


            def schedule_later(queue: Queue, sensor_id: int, prices: pd.DataFrame):
                return queue.enqueue(make_schedule, sensor_id, prices, job_timeout=600)
            """,
            "6:51-6:57",
        ),
        flagged(
            """
            from flask_sqlalchemy import SQLAlchemy
            from rq.job import Job

            db = SQLAlchemy()


            class Sensor(db.Model):
                id = db.Column(db.Integer, primary_key=True)


            def enqueue_all(connection):
                for sensor in Sensor.query.all():
                    Job.create(forecast, args=(sensor,), connection=connection)
            """,
            "13:35-13:41",
        ),
        flagged(
            """
            import pandas as pd
            from flask import current_app


            def trigger(asset_id):
                frame = pd.read_csv("beliefs.csv")
                current_app.queues["forecasting"].enqueue_call(
                    func=fit_model, kwargs={"asset_id": asset_id, "data": frame}
                )
            """,
            "8:62-8:67",
        ),
        clean(
            """
            import pandas as pd
            from rq import Queue


            def schedule_later(queue: Queue, sensor, prices: pd.DataFrame):
                return queue.enqueue(
                    make_schedule, sensor.id, start=prices.index[0], job_timeout=600
                )
            """,
            note="ids and scalars are fine",
        ),
        clean(
            """
            import pandas as pd


            def notify(mailer, frame: pd.DataFrame):
                mailer.enqueue("report", frame)
            """,
            note="no rq in the file and a receiver not named like a queue",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """An RQ enqueue method (on a queue-named receiver unless the file imports rq) or
        `Job.create` imported from rq, with an argument that ends up in the payload."""
        uses_rq = ctx.imports.imports_any("rq", "flask_rq2")
        for call in outline.nodes(ast.Call):
            func = call.func
            if not isinstance(func, ast.Attribute) or not _ast_payload(call, func.attr):
                continue  # not a queue method, or nothing pickled
            if func.attr == "create":
                receiver = func.value
                if isinstance(receiver, ast.Name) and ctx.imports.resolve(receiver.id) in (
                    "rq.job.Job", "rq.Job"
                ):
                    return True
                continue  # a `create` that is not RQ's Job.create
            if uses_rq:
                return True
            code = ast.get_source_segment(ctx.source.text, func.value) or ""
            if "queue" in code.lower():
                return True
        return False

    def check(self, ctx: Context) -> Iterator[Finding]:
        uses_rq = ctx.imports.imports_any("rq", "flask_rq2")
        for chain in ctx.source.nodes("atom_expr", "power"):
            for index, trailer in _calls(chain):
                payload = _payload(ctx, chain, index, trailer, uses_rq)
                for argument in payload:
                    kind = _heavy_kind(ctx, argument)
                    if kind is not None:
                        yield self._finding(ctx, argument, kind)

    def _finding(self, ctx: Context, argument: NodeOrLeaf, kind: str) -> Finding:
        code = ctx.source.code_of(argument)
        message = (
            f"{code} ({kind}) is pickled into the RQ job and stored in Redis; pass an id or "
            "the parameters that rebuild it, and load it inside the job"
        )
        return self.finding(Range.of(argument), message,
                            cost=f"the whole {kind} pickled, stored and unpickled per job")


def _payload(ctx, chain, index: int, trailer, uses_rq: bool) -> list[NodeOrLeaf]:
    """The arguments of an RQ enqueue call that end up pickled in the job."""
    children = chain.children
    method_trailer = children[index - 1]
    if method_trailer.type != "trailer" or method_trailer.children[0].value != ".":
        return []  # a plain function call, not a queue method
    method = method_trailer.children[1].value
    receiver = ctx.source.code_of(chain_prefix(chain, index - 1)) if index > 1 else ""
    if method == "create":
        qualified = ctx.imports.qualified(chain_prefix(chain, index - 1)) if index == 2 else None
        if qualified not in ("rq.job.Job", "rq.Job"):
            return []  # a `create` that is not RQ's Job.create
    elif method not in _ENQUEUE and method != "enqueue_call":
        return []  # not an enqueue method
    elif not uses_rq and "queue" not in receiver.lower():
        return []  # `.enqueue` of something that is not known to be an RQ queue
    positional, keywords = call_arguments(trailer)
    if method in _ENQUEUE:
        values = positional[_ENQUEUE[method]:]
    else:
        values = positional[1:3]
    values += [value for key, value in keywords.items() if key not in _RQ_OPTIONS]
    return [item for value in values for item in _unpacked(value)]


def _unpacked(value: NodeOrLeaf) -> list[NodeOrLeaf]:
    """The items of `args=(a, b)` and the values of `kwargs={"k": v}`, else the value."""
    if value.type == "argument" and value.children[0].type == "operator":
        return []  # `*args`: what it holds is not visible here
    if value.type == "atom" and value.children[0].value in ("(", "[") and len(
        value.children) == 3:  # type: ignore[attr-defined]
        inner = value.children[1]  # type: ignore[attr-defined]
        if inner.type == "testlist_comp":
            return [item for item in inner.children[::2] if item.type != "operator"]
        return [inner]
    if value.type == "atom" and value.children[0].value == "{" and len(value.children) == 3:
        inner = value.children[1]  # type: ignore[attr-defined]
        if inner.type == "dictorsetmaker":
            return [item for index, item in enumerate(inner.children) if index % 4 == 2]
    return [value]


def _heavy_kind(ctx: Context, argument: NodeOrLeaf) -> str | None:
    kind = ctx.infer.kind(argument)
    if kind is Kind.FRAME:
        return "a DataFrame"
    if kind is Kind.SERIES:
        return "a Series"
    if argument.type != "name":
        return None  # an expression: only named objects are traced to queries
    flow = _flow(ctx)
    instance = flow.instance(argument) or _queried_instance(flow, argument)
    if instance is not None and instance.cls is not None:
        return f"a {instance.cls.name} ORM object"
    elements = flow.elements(argument)
    if elements is not None:
        return f"a list of {elements.cls.name} ORM objects"
    return None


_ONE_ROW = {"first", "one", "one_or_none", "get", "get_or_404", "first_or_404", "one_or_404",
            "scalar_one", "scalar_one_or_none", "scalar"}


def _queried_instance(flow: OrmFlow, name: NodeOrLeaf) -> Elements | None:
    """`sensor = Sensor.query.get(i)`, `db.session.get(Sensor, i)`, `Sensor(...)`."""
    definitions = [d for d in definitions_before(name)  # type: ignore[arg-type]
                   if d.parent is None or d.parent.type != "trailer"]
    if not definitions:
        return None
    statement = definitions[0].get_definition()
    if statement is None or statement.type != "expr_stmt" or len(statement.children) != 3:
        return None
    value = statement.children[2]
    if value.type not in ("atom_expr", "power"):
        return None
    children = value.children
    if len(children) == 2 and children[1].children[0].value == "(":
        cls = flow.resolve_class(children[0])  # a constructor call: `Sensor(name=...)`
        return Elements(cls, None) if cls is not None else None
    last_method = children[-2].children[1].value if len(children) >= 3 and (
        children[-2].children[0].value == ".") else None
    if last_method not in _ONE_ROW or children[-1].children[0].value != "(":
        return None
    if last_method == "get" and _session_get_class(flow, children) is not None:
        return Elements(_session_get_class(flow, children), None)  # type: ignore[arg-type]
    elements = flow.elements(chain_prefix(value, len(children) - 2))
    return Elements(elements.cls, elements.origin) if elements is not None else None


def _session_get_class(flow: OrmFlow, children) -> MappedClass | None:
    """`db.session.get(Sensor, id)`: the class is the first argument."""
    positional, _ = call_arguments(children[-1])
    if not positional or "session" not in "".join(child.get_code() for child in children[:-2]):
        return None
    return flow.resolve_class(positional[0])


# -- FMP503 ---------------------------------------------------------------------

_MODELS = '''
from flask_sqlalchemy import SQLAlchemy
from marshmallow import Schema, fields

db = SQLAlchemy()


class Account(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String)


class Asset(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    account_id = db.Column(db.Integer, db.ForeignKey("account.id"))
    owner = db.relationship("Account", backref="assets")
    sensors = db.relationship("Sensor", backref="asset")


class Sensor(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    asset_id = db.Column(db.Integer, db.ForeignKey("asset.id"))
    name = db.Column(db.String)
'''


_ASSET_SCHEMAS = '''

class SensorSchema(Schema):
    id = fields.Int()
    name = fields.Str()


class AssetSchema(Schema):
    id = fields.Int()
    owner_name = fields.Str(attribute="owner.name")
    sensors = fields.List(fields.Nested(SensorSchema))
'''

_SENSOR_SCHEMA = '''

class SensorSchema(Schema):
    id = fields.Int()
    asset_owner = fields.Method("owner_of")

    def owner_of(self, sensor):
        return sensor.asset.owner.name


sensor_schema = SensorSchema()
'''


@register
class NPlusOneInSerialization(Rule):
    code = "FMP503"
    name = "n-plus-one-in-serialization"
    summary = "A schema dump reads lazy relationships of every object: 1 + N queries"
    severity = Severity.WARNING
    prefilter = (".dump",)
    docs = RuleDocs(
        what=(
            "Finds `schema.dump(objects, many=True)` (or a `many=True` schema, or a dump "
            "per element of a loop) over ORM objects when the schema's fields read lazy "
            "relationships: `fields.Nested` and `fields.Pluck` fields, `fields.Method` and "
            "`fields.Function` bodies, dotted `attribute=` paths, plain fields named after "
            "a relationship, and marshmallow-sqlalchemy's generated relationship fields "
            "(`include_relationships = True`). The finding sits on the dump and names the "
            "relationships read."
        ),
        why=(
            "A dump reads every field of every object, so each lazy relationship a field "
            "touches loads once per object: 1 + N x R queries for N objects and R "
            "relationships, with no loop anywhere in the source. A list endpoint over 500 "
            "assets with an owner and its sensors sends 1,001 queries."
        ),
        example=(
            "class AssetSchema(Schema):\n"
            "    owner = fields.Pluck(AccountSchema, \"name\")\n"
            "    sensors = fields.Nested(SensorSchema, many=True)\n\n"
            "assets = Asset.query.filter_by(account_id=account_id).all()\n"
            "return AssetSchema(many=True).dump(assets)"
        ),
        instead=(
            "assets = (\n"
            "    Asset.query.filter_by(account_id=account_id)\n"
            "    .options(joinedload(Asset.owner), selectinload(Asset.sensors))\n"
            "    .all()\n"
            ")\n"
            "return AssetSchema(many=True).dump(assets)"
        ),
        false_alarms=(
            "Silent when the paths are already eager-loaded in the query or the model, when "
            "`only`/`exclude` leave them out, when which fields are dumped is computed at run "
            "time, and when the dumped objects cannot be traced to mapped objects. Schemas "
            "imported from other modules are not read yet, so their dumps are not reported. "
            "When the objects come from elsewhere (a parameter), the finding is a hint "
            "without a fix."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html",
            "https://marshmallow-sqlalchemy.readthedocs.io/en/latest/",
        ),
    )
    examples = (
        flagged(
            _MODELS + _ASSET_SCHEMAS + '''

def list_assets():
    assets = Asset.query.all()
    return AssetSchema(many=True).dump(assets)
''',
            "38:11-38:46",
            fixed=_MODELS.replace(
                "from marshmallow import Schema, fields\n",
                "from marshmallow import Schema, fields\n"
                "from sqlalchemy.orm import joinedload\n"
                "from sqlalchemy.orm import selectinload\n",
            ) + _ASSET_SCHEMAS + '''

def list_assets():
    assets = Asset.query.options(joinedload(Asset.owner), selectinload(Asset.sensors)).all()
    return AssetSchema(many=True).dump(assets)
''',
            note="a dotted attribute and a nested list: both relationships eager-loaded",
        ),
        flagged(
            _MODELS + _SENSOR_SCHEMA + '''

def export():
    sensors = Sensor.query.all()
    return [sensor_schema.dump(sensor) for sensor in sensors]
''',
            "38:12-38:38",
            fixed=_MODELS.replace(
                "from marshmallow import Schema, fields\n",
                "from marshmallow import Schema, fields\n"
                "from sqlalchemy.orm import joinedload\n",
            ) + _SENSOR_SCHEMA + '''

def export():
    sensors = Sensor.query.options(joinedload(Sensor.asset).joinedload(Asset.owner)).all()
    return [sensor_schema.dump(sensor) for sensor in sensors]
''',
            note="a dump per element of a comprehension; a Method body's nested path",
        ),
        clean(
            _MODELS + '''
from sqlalchemy.orm import selectinload


class AssetSchema(Schema):
    id = fields.Int()
    sensors = fields.Pluck("SensorSchema", "id", many=True)


class SensorSchema(Schema):
    id = fields.Int()


def list_assets():
    assets = Asset.query.options(selectinload(Asset.sensors)).all()
    return AssetSchema(many=True).dump(assets)


def list_ids():
    return AssetSchema(many=True, only=("id",)).dump(Asset.query.all())
''',
            note="already eager-loaded; only= leaves the relationship out",
        ),
        clean(
            _MODELS + '''

class AssetSchema(Schema):
    id = fields.Int()
    sensors = fields.Nested("SensorSchema", many=True)


def show(asset_id, fields_in_response):
    assets = Asset.query.all()
    one = AssetSchema().dump(Asset.query.get(asset_id))
    return AssetSchema(many=True, only=fields_in_response).dump(assets), one
''',
            note="a single object; fields chosen at run time",
        ),
    )

    def gate(self, outline: Outline, ctx: Context) -> bool:
        """`.dump(x)` on a call or a name, of many objects (`many=True` somewhere) or of a
        name within a loop; a schema class of this file or an imported `*Schema` built by a
        call; and relationships in the project or in this file."""
        many = any(_ast_many(call) for call in outline.nodes(ast.Call))
        if not any(_ast_dump(call) and (many or _ast_dump_in_loop(outline, call))
                   for call in outline.nodes(ast.Call)):
            return False  # no `schema.dump(objects)` of many objects or in a loop
        if not ctx.models.relationship_names() and not (
            outline.called & {"relationship", "dynamic_loader"}
        ):
            return False  # no relationship anywhere: nothing loads lazily
        classes = schema_class_names(outline) if uses_marshmallow(ctx) else set()
        return any(_ast_schema_call(ctx, call, classes, likely=False)
                   for call in outline.nodes(ast.Call))

    def check(self, ctx: Context) -> Iterator[Finding]:
        for chain in ctx.source.nodes("atom_expr", "power"):
            for index, trailer in _calls(chain):
                found = self._dump(ctx, chain, index, trailer)
                if found is not None:
                    yield found

    def _dump(self, ctx: Context, chain, index: int, trailer) -> Finding | None:
        method = chain.children[index - 1]
        if index < 2 or method.children[0].value != "." or method.children[1].value not in (
            "dump", "dumps"
        ):
            return None
        instance = _schema_instance(ctx, chain_prefix(chain, index - 1))
        if instance is None:
            return None  # not a schema of this project with known fields
        schema, options = instance
        positional, keywords = call_arguments(trailer)
        if not positional:
            return None  # `dump()` without the objects
        many = _true(keywords.get("many")) or _true(options.get("many"))
        flow = _flow(ctx)
        elements = _dumped_elements(flow, chain, positional[0], many, schema)
        if elements is None:
            return None  # not traced to mapped objects
        fields = _dumped_fields(schema, options)
        if fields is None:
            return None  # which fields are dumped is decided at run time
        paths = _lazy_paths(ctx, flow, schema, elements, fields)
        if not paths:
            return None  # every relationship read is eager already
        return self._finding(ctx, flow, chain, index, schema, elements, paths)

    def _finding(self, ctx, flow, chain, index, schema, elements, paths) -> Finding:
        span = Range.between(chain.children[0], chain.children[index])
        names = ", ".join(" -> ".join(rel.describe() for rel in path) for path in paths)
        message = (
            f"{schema.name} dumps {elements.cls.name} objects and reads the lazy "
            f"relationship{'s' if len(paths) > 1 else ''} {names} on each: one query per "
            f"object per relationship; eager-load {'them' if len(paths) > 1 else 'it'} in "
            "the query that feeds the dump"
        )
        fixable = [path for path in paths if path[-1].lazy not in DYNAMIC]
        fix = None
        if elements.origin is not None and len(fixable) == len(paths):
            from fmperf_ls.rules.orm import loader_fix

            fix = loader_fix(ctx, flow, elements.origin, chain, [tuple(p) for p in paths])
        confidence = Confidence.HIGH if elements.origin is not None else Confidence.LOW
        cost = f"1 + N x {len(paths)} queries for N {elements.cls.name} objects"
        return self.finding(span, message, fix=fix, cost=cost, confidence=confidence)


def _true(node: NodeOrLeaf | None) -> bool:
    return node is not None and node.get_code(include_prefix=False) == "True"


def _schema_instance(ctx: Context, receiver: NodeOrLeaf):
    """(schema class of this file, its constructor keywords) for `X(...)` or a name bound to it."""
    if receiver.type == "name":
        definitions = [d for d in definitions_before(receiver)  # type: ignore[arg-type]
                       if d.parent is None or d.parent.type != "trailer"]
        statement = definitions[0].get_definition() if definitions else None
        if statement is None or statement.type != "expr_stmt" or len(statement.children) != 3:
            return None
        receiver = statement.children[2]
    if receiver.type not in ("atom_expr", "power"):
        return None  # not built by a call we can read
    children = receiver.children  # type: ignore[attr-defined]
    last = children[-1]
    if last.type != "trailer" or last.children[0].value != "(":
        return None  # not `X(...)`
    schema = schema_for_call(ctx, chain_prefix(receiver, len(children) - 1))
    if schema is None or schema.node is None:
        return None  # an imported schema: its fields are not known here
    _, keywords = call_arguments(last)
    return schema, keywords


def _dumped_elements(flow: OrmFlow, chain, argument, many: bool, schema) -> Elements | None:
    if many:
        elements = flow.elements(argument)
        if elements is None and schema.meta_model is not None:
            cls = flow.index.mapped_class(schema.meta_model)
            return Elements(cls, None) if cls is not None else None
        return elements
    if argument.type != "name" or not loops_around(chain):
        return None  # one object outside a loop: one query per relationship, not N
    definitions = definitions_before(argument)
    targets = {id(name) for loop in loops_around(chain) for name in loop.target_names()}
    if not definitions or id(definitions[0]) not in targets:
        return None  # the dumped object is not the loop's element
    return flow.instance(argument)


def _dumped_fields(schema: SchemaClass, options) -> dict[str, list] | None:
    """The fields a dump writes, after `only`/`exclude`; None when they are not literal."""
    fields = {name: paths for name, paths in schema.fields.items()
              if name not in schema.excluded and (schema.only is None or name in schema.only)}
    only, exclude = options.get("only"), options.get("exclude")
    for option, keep in ((only, True), (exclude, False)):
        if option is None:
            continue
        names = strings_of(option)
        if names is None:
            return None
        fields = {name: paths for name, paths in fields.items() if (name in names) == keep}
    return fields


def _lazy_paths(ctx, flow: OrmFlow, schema, elements: Elements, fields) -> list[list]:
    """Relationship paths the fields read that some step loads lazily, deduplicated."""
    index = flow.index
    attribute_paths = [path for paths in fields.values() for path in paths]
    if schema.sqlalchemy and schema.include_relationships:
        for name in sorted(index.relationship_names()):
            if index.relationship(elements.cls, name) is not None and (
                name not in schema.excluded
            ):
                attribute_paths.append((name,))
    found: dict[tuple[str, ...], list[Relationship]] = {}
    for path in attribute_paths:
        rels = _relationships_along(index, elements.cls, path)
        if not rels:
            continue
        lazy_end = _last_lazy(flow, elements, rels)
        if lazy_end:
            key = tuple(rel.attribute for rel in rels[:lazy_end])
            found[key] = rels[:lazy_end]
    keys = [key for key in found if not any(
        other != key and other[: len(key)] == key for other in found)]
    return [found[key] for key in sorted(keys)]


def _relationships_along(index, cls: MappedClass, path) -> list[Relationship]:
    rels: list[Relationship] = []
    current: MappedClass | None = cls
    for attribute in path:
        if current is None:
            break
        rel = index.relationship(current, attribute)
        if rel is None:
            break
        rels.append(rel)
        current = index.mapped_class(rel.target) if rel.target else None
    return rels


def _last_lazy(flow: OrmFlow, elements: Elements, rels: list[Relationship]) -> int:
    """How many steps of the path to load: up to the last one that loads lazily."""
    last = 0
    prefix = tuple(elements.path)
    for position in range(len(rels)):
        path = prefix + tuple(rels[: position + 1])
        if rels[position].lazy in DYNAMIC or not flow.is_eager(elements.origin, path):
            last = position + 1
    return last


# -- gates: the same shapes read from an `ast` outline, generously -------------------


def _ast_schema_call(ctx: Context, call: ast.Call, classes: set[str], likely: bool) -> bool:
    """`X(...)` with X a class of this file, or an imported `*Schema` outside marshmallow
    itself (from a module named like schemas, when `likely`)."""
    parts = dotted(call.func)
    if parts is None:
        return False  # `f()(...)`, `a[0](...)`: no dotted callee
    if len(parts) == 1 and parts[0] in classes:
        return True
    head = ctx.imports.resolve(parts[0])
    if head is None or not parts[-1].endswith("Schema"):
        return False  # not imported, or not named as a schema
    module = ".".join([head, *parts[1:]]).rpartition(".")[0]
    if any(module == name or module.startswith(name + ".") for name in MARSHMALLOW_MODULES):
        return False  # marshmallow's own classes
    return not likely or "schema" in module.lower()


def _ast_bound_at_module(outline: Outline, call: ast.Call) -> bool:
    """The callee's first name is bound at module level (`_bound_at_module`)."""
    parts = dotted(call.func)
    return parts is not None and outline.binds_at_top(parts[0])


def _ast_literal_call(call: ast.Call) -> bool:
    """Every argument a literal as `_is_literal` sees it (a little more generously)."""
    return all(_ast_literal(value) for value in call.args) and all(
        keyword.arg is not None and _ast_literal(keyword.value) for keyword in call.keywords)


def _ast_literal(node: ast.expr) -> bool:
    if isinstance(node, (ast.Constant, ast.JoinedStr, ast.ListComp, ast.GeneratorExp)):
        return True  # a comprehension of a literal counts as one in the parso reading
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_ast_literal(item) for item in node.elts)
    return False


class _AstUses:
    """Which calls' results serialize or validate in the file: `_used_here` read off the
    outline, loosely (any same-named variable anywhere counts)."""

    def __init__(self, outline: Outline):
        serializing = [node for node in outline.nodes(ast.Attribute) if node.attr in _SERIALIZING]
        self.calls = {id(node.value) for node in serializing if isinstance(node.value, ast.Call)}
        self.names = {node.value.id for node in serializing if isinstance(node.value, ast.Name)}
        self.assigned: dict[int, set[str]] = {}
        for statement in outline.nodes(ast.Assign):
            targets = {target.id for target in statement.targets if isinstance(target, ast.Name)}
            self.assigned.setdefault(id(statement.value), set()).update(targets)

    def here(self, call: ast.Call) -> bool:
        """`X().dump(...)`, or `s = X()` with some `s.load(...)` in the file."""
        return id(call) in self.calls or not self.names.isdisjoint(self.assigned.get(id(call), ()))


def _ast_runs_per_call(call: ast.Call, functions: list[ast.AST]) -> bool:
    """Inside a function that is not a command (`_runs_once`), judged by the innermost one.

    A decorator whose code names `command` marks a command; the parso reading also
    counts comments between decorators, so it may call more functions commands, never fewer.
    """
    around = [function for function in functions if _ast_within(call, function)]
    if not around:
        return False  # module or class level: built once already
    innermost = max(around, key=lambda function: (function.lineno,  # type: ignore[attr-defined]
                                                  function.col_offset))  # type: ignore
    decorators = getattr(innermost, "decorator_list", [])
    return not any("command" in ast.unparse(decorator) for decorator in decorators)


def _ast_within(node: ast.AST, holder: ast.AST) -> bool:
    start, end = holder.lineno, holder.end_lineno or holder.lineno  # type: ignore[attr-defined]
    return start <= node.lineno and (node.end_lineno or node.lineno) <= end  # type: ignore


def _ast_payload(call: ast.Call, method: str) -> bool:
    """Whether an enqueue-like method call has an argument that would be pickled."""
    if method not in _ENQUEUE and method not in _EXPLICIT:
        return False  # not a queue method
    first = _ENQUEUE.get(method, 1)
    if any(not isinstance(value, ast.Starred) for value in call.args[first:]):
        return True
    return any(keyword.arg is not None and keyword.arg not in _RQ_OPTIONS
               for keyword in call.keywords)


def _ast_dump(call: ast.Call) -> bool:
    """`X(...).dump(x)` or `name.dump(x)`."""
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr in ("dump", "dumps") and bool(
        call.args) and isinstance(func.value, (ast.Call, ast.Name))


def _ast_many(call: ast.Call) -> bool:
    """`many=True` among the keywords, for a dump or a schema's constructor."""
    return any(keyword.arg == "many" and isinstance(keyword.value, ast.Constant)
               and keyword.value.value is True for keyword in call.keywords)


def _ast_dump_in_loop(outline: Outline, call: ast.Call) -> bool:
    """`schema.dump(obj)` of a name within a loop: one object per iteration."""
    return isinstance(call.args[0], ast.Name) and outline.in_loop(call)
