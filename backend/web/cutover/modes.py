"""LEGACY_ACT_MODES: which side answers each act, checked once at start-up (pure)."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from config import ConfigError

SERVE, PROXY, SHADOW = "serve", "proxy", "shadow"
MODES = (SERVE, PROXY, SHADOW)
VARIABLE = "LEGACY_ACT_MODES"

# The legacy router's act → path table (legacy-contract/acts.md §1) in its order, spelled like the
# gateway's paths. Three acts have no path there and fall back to `/` (GET answers `help`).
# An act missing here exists only in the gateway: it is always served, never forwarded.
LEGACY_PATHS: Mapping[str, str] = MappingProxyType(
    {
        "help": "/",
        "health": "/health",
        "login": "/login",
        "register": "/register",
        "logout": "/logout",
        "refresh": "/refresh",
        "logout-all": "/logout-all",
        "change-password": "/change-password",
        "forgot-password": "/forgot-password",
        "reset-password": "/reset-password",
        "users": "/users",
        "users_stats": "/users/stats",
        "user": "/user/<id>",
        "profile": "/profile",
        "user_update": "/user/<id>",
        "user_toggle_status": "/user/<id>/toggle-status",
        "user_delete": "/user/<id>",
        "projects": "/projects",
        "project": "/project/<id>",
        "project_context": "/",
        "project_update": "/project/<id>",
        "project_delete": "/project/<id>",
        "project_add_member": "/project/<id>/members",
        "project_environments": "/project/<id>/environments",
        "environment": "/environment/<id>",
        "environment_update": "/environment/<id>",
        "environment_delete": "/environment/<id>",
        "environment_create": "/project/<id>/environments",
        "project_folders": "/project/<id>/folders",
        "folders_list": "/project/<id>/folders",
        "folder": "/folder/<id>",
        "folder_detail": "/folder/<id>",
        "folder_update": "/folder/<id>",
        "folder_delete": "/folder/<id>",
        "folder_create": "/project/<id>/folders",
        "endpoints": "/folder/<id>/endpoints",
        "endpoint": "/endpoint/<id>",
        "endpoint_update": "/endpoint/<id>",
        "endpoint_delete": "/endpoint/<id>",
        "endpoint_create": "/folder/<id>/endpoints",
        "endpoint_list": "/folder/<id>/endpoints/list",
        "endpoint_get": "/endpoint/<id>/get",
        "project_endpoints": "/project/<id>/endpoints",
        "project_endpoints_grouped": "/project/<id>/endpoints/grouped",
        "flows": "/project/<id>/flows",
        "flows_active": "/project/<id>/flows/active",
        "flows_list": "/",
        "flow": "/flow/<id>",
        "flow_update": "/flow/<id>",
        "flow_delete": "/flow/<id>",
        "flow_create": "/project/<id>/flows",
        "flow_toggle_active": "/flow/<id>/toggle-active",
        "flow_duplicate": "/flow/<id>/duplicate",
        "flow_list": "/project/<id>/flows",
        "flow_get": "/flow/<id>",
        "flow_activate": "/flow/<id>/activate",
        "flow_deactivate": "/flow/<id>/deactivate",
        "flow_execute": "/flow/<id>/execute",
        "flow_detail_ui": "/flow/<id>/ui",
        "flow_update_ui": "/",
        "mcp_validate": "/mcp/validate",
        "mcp_generate_config": "/project/<id>/generate-config",
    }
)
# A REST-form request goes to the legacy as the first act of its path (`/flow/<id>` → `flow`).
LEGACY_ACT_BY_PATH: Mapping[str, str] = MappingProxyType(
    {path: act for act, path in reversed(LEGACY_PATHS.items())}
)


def is_legacy(act: str) -> bool:
    return act in LEGACY_PATHS


def legacy_act(act: str | None, gateway_path: str) -> str | None:
    """The legacy act a request is for: its own act name, or for the REST form (no act) the
    legacy act of the matched path; None when only the gateway has it."""
    if act is None:
        return LEGACY_ACT_BY_PATH.get(gateway_path)
    return act if is_legacy(act) else None


@dataclass(frozen=True)
class ModeTable:
    default: str = SERVE
    acts: Mapping[str, str] = field(default_factory=dict)

    def mode_for(self, act: str | None) -> str:
        """Acts only the gateway has are always served, whatever the default says."""
        if act is None or not is_legacy(act):
            return SERVE
        return self.acts.get(act, self.default)


def parse_modes(raw: str, known_acts: Collection[str]) -> ModeTable:
    """`*=shadow,flow_toggle_active=serve,login=proxy`; any mistake stops the start-up."""
    default, explicit = SERVE, {}
    for pair in (part.strip() for part in raw.split(",")):
        if not pair:
            continue
        act, sep, mode = (piece.strip() for piece in pair.partition("="))
        if not sep or not act:
            raise ConfigError(f"{VARIABLE}: {pair!r} is not act=mode")
        if mode not in MODES:
            raise ConfigError(f"{VARIABLE}: unknown mode {mode!r} for {act} (serve, proxy, shadow)")
        if act in explicit:
            raise ConfigError(f"{VARIABLE}: {act} is given twice")
        check_act(act, mode, known_acts)
        explicit[act] = mode
    default = explicit.pop("*", default)
    return ModeTable(default, MappingProxyType(explicit))


def check_act(act: str, mode: str, known_acts: Collection[str]) -> None:
    if act == "*":
        return
    if act not in known_acts:
        raise ConfigError(f"{VARIABLE}: unknown act {act!r}")
    if not is_legacy(act) and mode != SERVE:
        raise ConfigError(
            f"{VARIABLE}: {act} exists only in the gateway (the legacy has no such act); "
            f"it is always served, {mode} is refused"
        )
