"""The gate kinds every plugin provides, through the ``pytest_promote_gate_kinds`` hook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from pytest_promote.policy.loader import check_gate_id
from pytest_promote.policy.schema import policy_error

if TYPE_CHECKING:
    import pluggy

    from pytest_promote.api import Gate


def gate_kinds(pluginmanager: pluggy.PluginManager) -> dict[str, type[Gate]]:
    """Every gate kind of every plugin registered with ``pluginmanager``, through the
    ``pytest_promote_gate_kinds`` hook; a UsageError when two plugins provide one name
    (one would silently lose) or a name is no valid gate id."""
    kinds: dict[str, type[Gate]] = {}
    providers: dict[str, str] = {}
    hook = pluginmanager.hook.pytest_promote_gate_kinds
    # Each implementation called on its own, through pluggy's public HookImpl (its
    # `function` and `plugin_name`), tells which plugin provided which kind; calling
    # the hook would return the kinds with no provider.
    for impl in reversed(hook.get_hookimpls()):  # in the order pluggy calls them
        provided = cast("Mapping[str, type[Gate]] | None", impl.function()) or {}
        for name, kind in provided.items():
            where = f"pytest_promote_gate_kinds of {impl.plugin_name}"
            check_gate_id(name, where, "kind")
            if name in providers:
                problem = (
                    f"provided by both {providers[name]} and {impl.plugin_name}; "
                    "rename one of the kinds (or uninstall one plugin)"
                )
                raise policy_error("pytest_promote_gate_kinds", "kind", name, problem)
            providers[name] = impl.plugin_name
            kinds[name] = kind
    return kinds
