"""The service's layout holds: no import cycle among its modules, route modules never import one another,
every resource's blueprint is registered by the factory, and the schema module is ``service.db``."""

from __future__ import annotations

import ast
from pathlib import Path

import service

SERVICE = Path(service.__file__).parent
ROUTES = {"service.api", "service.tableplans", "service.meetings", "service.jobs", "service.exports"}


def _imports() -> dict[str, set[str]]:
    """service module -> the service modules it imports (at any depth in the file, lazy imports included)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(SERVICE.glob("*.py")):
        name = "service" if path.stem == "__init__" else f"service.{path.stem}"
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "service":
                    found |= {f"service.{a.name}" for a in node.names}
                elif node.module.startswith("service."):
                    found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("service.")}
        graph[name] = found - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if m == "service.create_app":
                continue
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m in graph and state.get(m) is None and (c := visit(m)):
                return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if state.get(n) is None and (c := visit(n)):
            return c
    return None


def test_no_import_cycle_in_service():
    graph = _imports()
    graph.pop("service", None)  # the package's __init__ only re-exports create_app
    assert "service.http" in graph and "service.db" in graph
    assert _cycle(graph) is None, _cycle(graph)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_route_modules_do_not_import_each_other():
    graph = _imports()
    for name in ROUTES & graph.keys():
        assert not graph[name] & (ROUTES - {name}), (name, graph[name])


def test_factory_registers_each_blueprint():
    from service import create_app

    app = create_app({"DATABASE_URL": "sqlite://", "ENCODER": "hashing"})
    assert {"v1", "tableplans", "exports"} <= set(app.blueprints)
    rules: dict[str, set[str]] = {}
    for r in app.url_map.iter_rules():
        rules.setdefault(r.rule, set()).add(r.endpoint)
    assert rules["/v1/events/<event_id>/table-plans"] == {"tableplans.table_plans"}
    assert rules["/v1/events/<event_id>/attendees"] == {"v1.upsert_attendees", "exports.list_attendees"}


def test_schema_module_is_db():
    from service import db

    assert db.attendees.name == "mm_attendees"
    assert not (SERVICE / "tables.py").exists()  # "tables" means seating only
