"""Every action the audit log can hold has words in both languages (#17): the test reads server/ for every action
passed to `record_audit` or `audit_values` (the rows of `record_audits`) and asks the vocabulary for each.

An action is a string, or is built from one the test can follow: a conditional of strings, a module constant, a
function's parameter (followed to that function's callers in the same module), an f-string over the items (listed
in BUILT below) or an action an item declares (DECLARED below). Anything else fails here, so a new way of naming
an action is met by a line in this file, not by a code on the audit page.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.imports.columns import kinds
from server.items import registry
from server.vocabulary import AUDIT_ACTIONS, ORIGIN_LABELS, audit_action_key, audit_action_label, origin_label
from server.web.labels import action_words

SERVER = Path(__file__).resolve().parents[1] / "server"
WRITERS = {"record_audit", "audit_values"}
ITEMS = list(registry.known())
# Actions built at run time, by the shape of their f-string ({} for each value put in).
BUILT = {
    "import.{}": kinds(ITEMS),
    "{}_record.write": ITEMS,
}
# Actions passed on from what an item declares: (module, the expression passed as `action`).
DECLARED = {
    ("server/departments/operations.py", "audit_action"),  # an item's console action: Change(…, (action, …))
    ("server/student/service.py", "action.audit_action"),  # an item's StudentAction
}


class Unresolved(AssertionError):
    """An action the test cannot follow to its strings."""


def _module(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _argument(call: ast.Call, name: str, position: int | None) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return call.args[position] if position is not None and position < len(call.args) else None


def _strings(node: ast.expr, tree: ast.Module, parents: dict[ast.AST, ast.AST], where: str) -> Iterator[str]:
    """The actions an expression can be."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body, tree, parents, where)
        yield from _strings(node.orelse, tree, parents, where)
    elif isinstance(node, ast.JoinedStr):
        shape = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        if shape not in BUILT:
            raise Unresolved(f"{where}: f-string action {shape!r}: say in BUILT what it is built from")
        yield from (shape.replace("{}", value) for value in BUILT[shape])
    elif isinstance(node, ast.Name):
        yield from _name_strings(node, tree, parents, where)
    else:
        raise Unresolved(f"{where}: cannot follow the action {ast.unparse(node)!r}")


def _name_strings(node: ast.Name, tree: ast.Module, parents: dict[ast.AST, ast.AST], where: str) -> Iterator[str]:
    """A parameter's values at every call of its function in the module, or a module constant's string."""
    scope = parents.get(node)
    while scope is not None and not isinstance(scope, ast.FunctionDef):
        scope = parents.get(scope)
    if scope is not None:
        params = [a.arg for a in (*scope.args.posonlyargs, *scope.args.args)]
        if node.id in params or node.id in [a.arg for a in scope.args.kwonlyargs]:
            position = params.index(node.id) if node.id in params else None
            calls = [c for c in ast.walk(tree) if isinstance(c, ast.Call) and _name(c) == scope.name]
            if not calls:
                raise Unresolved(f"{where}: {scope.name}() is never called in its module")
            for call in calls:
                value = _argument(call, node.id, position)
                if value is None:
                    raise Unresolved(f"{where}: a call of {scope.name}() passes no {node.id}")
                yield from _strings(value, tree, parents, where)
            return
    for statement in tree.body:  # a module constant
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target] \
            if isinstance(statement, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == node.id for t in targets):
            assert isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value is not None
            yield from _strings(statement.value, tree, parents, where)
            return
    raise Unresolved(f"{where}: cannot follow the name {node.id!r}")


def declared_actions() -> set[str]:
    """What the items declare: each StudentAction's audit_action, and each Change's audit line, (action, …, …)."""
    found = {action.audit_action for item in registry.known().values() for action in item.student_actions}
    for path in sorted((SERVER / "items").glob("*.py")):
        for call in ast.walk(_module(path)):
            if isinstance(call, ast.Call) and _name(call) == "Change":
                audit = _argument(call, "audit", 2)
                if isinstance(audit, ast.Tuple) and isinstance(audit.elts[0], ast.Constant):
                    found.add(str(audit.elts[0].value))
                elif audit is not None:
                    raise Unresolved(f"{path}: cannot follow the audit line {ast.unparse(audit)!r}")
    return found


def written_actions() -> set[str]:
    """Every action a call in server/ can write to the audit log."""
    found: set[str] = set()
    declared_seen = set()
    for path in sorted(SERVER.rglob("*.py")):
        relative = str(path.relative_to(SERVER.parent))
        if relative.startswith("server/migrations/"):
            continue
        tree = _module(path)
        parents = _parents(tree)
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and _name(call) in WRITERS):
                continue
            where = f"{relative}:{call.lineno}"
            action = _argument(call, "action", None)
            if action is None:  # both writers take their action by keyword only
                raise Unresolved(f"{where}: no action=")
            if (relative, ast.unparse(action)) in DECLARED:
                declared_seen.add((relative, ast.unparse(action)))
                continue
            found.update(_strings(action, tree, parents, where))
    assert declared_seen == DECLARED, f"DECLARED names a call no longer there: {DECLARED - declared_seen}"
    return found | declared_actions()


def test_the_scan_finds_the_actions_it_should():
    actions = written_actions()
    # One of each way an action is named: a string, a conditional, a module constant, a parameter, both f-strings,
    # a student action and a console action's audit line.
    assert {"certificate.issue", "wechat.rebind", "wechat.bind", "cas.roster_differs", "batch.close",
            "batch.reopen", "import.roster", "import.library", "library_record.write", "library_card.cancel",
            "finance.clear_arrears", "student.create"} <= actions
    assert len(actions) >= 35


def test_every_action_in_the_audit_log_has_words_in_both_languages():
    missing = []
    for action in sorted(written_actions()):
        key = audit_action_key(action)
        words = AUDIT_ACTIONS.get(key)
        if words is None or not all(words) or action in words or words[0] == words[1]:
            missing.append(action)
    assert not missing, f"audit actions without words in Chinese and English: {missing}"


@pytest.mark.parametrize("action", ["library_record.write", "import.finance", "import.roster", "batch.close"])
def test_an_action_reads_as_words_with_its_items_title(action):
    zh, en = action_words(action)
    assert action not in (zh, en) and "_" not in zh + en and zh != en


def test_an_unknown_action_is_shown_as_it_is_stored():
    assert audit_action_label("graduation.party") == ("graduation.party", "graduation.party")
    assert action_words("graduation.party") == ("graduation.party", "graduation.party")
    assert action_words("nosuchitem_record.write")[0].startswith("nosuchitem")  # an item no longer declared


def test_origins_in_words_and_addresses_as_they_are():
    for origin in ("cli", ""):
        zh, en = origin_label(origin)
        assert zh and en and zh != en and set(ORIGIN_LABELS) >= {origin}
    assert origin_label(None) == origin_label("")
    assert origin_label("10.0.0.1") == ("10.0.0.1", "10.0.0.1")
