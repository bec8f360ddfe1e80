"""The layers point one way (docs/architecture.md): a short AST walk over kiosk/.

pure (domain, vision, documents, chip) ← core ← providers ← services ← web, cli
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kiosk"
PURE = ("kiosk.domain", "kiosk.vision", "kiosk.documents", "kiosk.chip")
FRAMEWORKS = ("flask", "flask_sqlalchemy", "flask_wtf", "flask_migrate", "htmx_flask", "werkzeug")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file (top level or inside functions)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            # `from kiosk.services import ekyc` imports the submodule kiosk.services.ekyc
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _kiosk_imports(module: str) -> set[str]:
    return {m for m in MODULES[module] if m in MODULES and m != module}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _within(m, PURE)))
def test_pure_packages_import_no_framework_and_no_outer_layer(module):
    bad = {m for m in MODULES[module]
           if _within(m, FRAMEWORKS) or _within(m, ("kiosk.core", "kiosk.services", "kiosk.web",
                                                     "kiosk.cli", "kiosk.providers"))}
    assert not bad, f"{module} is pure but imports {sorted(bad)}"


# Among the pure packages the domain is the bottom: the others may use its rules (the chip its
# one MRZ check digit, vision its face thresholds), and it imports none of them.
@pytest.mark.parametrize("module", sorted(m for m in MODULES if _within(m, ("kiosk.domain",))))
def test_the_domain_imports_no_other_pure_package(module):
    bad = {m for m in _kiosk_imports(module) if not _within(m, ("kiosk.domain",))}
    assert not bad, f"{module} imports {sorted(bad)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _within(m, ("kiosk.chip",))))
def test_the_chip_uses_only_itself_and_the_domain(module):
    bad = {m for m in _kiosk_imports(module) if not _within(m, ("kiosk.chip", "kiosk.domain"))}
    assert not bad, f"{module} imports {sorted(bad)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES
                                          if _within(m, ("kiosk.core", "kiosk.providers",
                                                         "kiosk.services"))))
def test_inner_layers_never_import_the_web_or_cli_layer(module):
    bad = {m for m in MODULES[module] if _within(m, ("kiosk.web", "kiosk.cli"))}
    assert not bad, f"{module} imports {sorted(bad)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _within(m, ("kiosk.core",))))
def test_core_never_imports_services(module):
    bad = {m for m in MODULES[module] if _within(m, ("kiosk.services",))}
    assert not bad, f"{module} imports {sorted(bad)}"


def test_wizard_and_staff_blueprints_do_not_import_each_other():
    for a, b in (("kiosk.web.wizard", "kiosk.web.staff"), ("kiosk.web.staff", "kiosk.web.wizard")):
        for module in (m for m in MODULES if _within(m, (a,))):
            bad = {m for m in MODULES[module] if _within(m, (b,))}
            assert not bad, f"{module} imports {sorted(bad)}"


def test_step_modules_never_import_another_step():
    steps = {m for m in MODULES if m.startswith("kiosk.web.wizard.steps.")}
    for module in steps:
        bad = (MODULES[module] & steps) - {module}
        assert not bad, f"{module} imports {sorted(bad)}: return GoTo(n) and let the router render"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in ``graph`` (module → modules it imports), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_no_import_cycles_in_the_package():
    # A blueprint module importing its own package's ``bp`` is the Flask registration pattern:
    # edges to an ancestor package are not counted.
    graph = {m: {d for d in _kiosk_imports(m) if not m.startswith(d + ".")} for m in MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_cycle_finder_finds_a_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


# ---- One call down, one outcome back: views parse, call a service, render -----------------

WEB_MAY_NOT_IMPORT = ("kiosk.providers", "kiosk.core.audit", "kiosk.core.extensions")


def _touches_db_session(path: Path) -> bool:
    """``db.session`` (or ``x.session`` on a name called db) anywhere in the file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Attribute) and node.attr == "session"
                and isinstance(node.value, ast.Name) and node.value.id == "db"):
            return True
    return False


WEB_MODULES = sorted(m for m in MODULES if _within(m, ("kiosk.web",)))


@pytest.mark.parametrize("module", WEB_MODULES)
def test_views_reach_the_database_providers_and_audit_only_through_services(module):
    bad = {m for m in MODULES[module] if _within(m, WEB_MAY_NOT_IMPORT)}
    assert not bad, (f"{module} imports {sorted(bad)}: call a service (kiosk/services) and let "
                     "the request commit (services/unit_of_work)")


@pytest.mark.parametrize("module", WEB_MODULES)
def test_views_never_touch_the_session(module):
    path = PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py")
    if not path.exists():
        path = path.with_suffix("") / "__init__.py"
    assert not _touches_db_session(path), f"{module} uses db.session: a service does that"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _within(m, ("kiosk.services",))))
def test_services_never_read_the_request(module):
    # Services take plain values: the console and the CLI call the same functions.
    bad = {m for m in MODULES[module]
           if m in ("flask.request", "flask_login.current_user", "flask.session", "flask_wtf")}
    assert not bad, f"{module} imports {sorted(bad)}: take the values as arguments"


def _commits(path: Path) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"]


# The named exceptions to "services flush, the request commits": the claims' early commit is the
# concurrency guard; unit_of_work is where the request and the CLI commit; the CLI commits after
# the service it called returned.
MAY_COMMIT = ("kiosk.services.claims", "kiosk.services.unit_of_work",
              # the sign-in throttle: a try is counted and committed on its own connection
              # before the password is checked, or parallel tries would all be checked
              "kiosk.services.staff_auth",
              # the kiosk's device look-up commits a digest it moved to the primary key (after
              # a key rotation) at once, so that the write never holds SQLite's lock through
              # the request's slow work
              "kiosk.services.kiosk_devices")


@pytest.mark.parametrize("module", sorted(m for m in MODULES
                                          if _within(m, ("kiosk.services", "kiosk.web"))
                                          and m not in MAY_COMMIT))
def test_only_the_request_commits(module):
    path = PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py")
    if not path.exists():
        path = path.with_suffix("") / "__init__.py"
    lines = _commits(path)
    assert not lines, (f"{module} commits at lines {lines}: flush, and let the request commit "
                       "(services/unit_of_work); only claims commit early")
