"""Build backend: setuptools, except that a regular wheel is refused.

The gateway is an application deployed from its checkout into a venv of its own (`make install`:
an editable install). Its packages keep the checkout's names (`backend`, `config`, `handlers`,
`schemas`); in a shared site-packages those would clash with other distributions (`config` is a
popular one), so `pip install .` stops here with the supported way instead.
"""

from typing import Any

from setuptools import build_meta
from setuptools.build_meta import *  # noqa: F403  (every other hook is setuptools' own)

REFUSAL = (
    "gassapi-gateway is an application, not a library: deploy it from its checkout with "
    "`make install` (its own .venv, locked dependencies, an editable install of the checkout); "
    "see docs/deploying.md"
)


def build_wheel(*_args: Any, **_kwargs: Any) -> str:
    raise SystemExit(REFUSAL)


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    return build_meta.get_requires_for_build_wheel(config_settings)
