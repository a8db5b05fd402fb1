"""Cut-over metrics, in the same registry as the request metrics (imported only with LEGACY_URL)."""

from collections.abc import Iterable

from prometheus_client import Counter, Gauge

SHADOW_TOTAL = Counter(
    "gassapi_shadow_total",
    "Shadow comparisons with the legacy backend, by act and outcome "
    "(same, different, legacy_error, dropped)",
    ["act", "outcome"],
)
PROXY_TOTAL = Counter(
    "gassapi_proxy_total",
    "Requests forwarded to the legacy backend, by act and outcome "
    "(relayed, unreachable, timeout, invalid, too_large, loop)",
    ["act", "outcome"],
)
MODE = Gauge(
    "gassapi_cutover_mode",
    "1 for the mode each legacy act is in (serve, proxy, shadow)",
    ["act", "mode"],
    multiprocess_mode="max",
)


def publish_modes(modes: Iterable[tuple[str, str]]) -> None:
    MODE.clear()
    for act, mode in modes:
        MODE.labels(act, mode).set(1)
