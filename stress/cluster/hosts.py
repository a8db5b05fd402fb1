"""The gateways' hosts: one network namespace each, joined to the machine by a veth pair.

Host n is the namespace `gwcluster-hN` with address 10.118.N.2; the machine's end of its link is
10.118.N.1, where HAProxy listens for it. A gateway in a namespace reaches nothing but HAProxy
(through its link) and is reached by the run's clients on its own address, as a separate machine
would be. Where namespaces cannot be made (no permission), the gateways run as plain processes on
127.0.0.1 and the figures say so.
"""

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from stress.common import log

PREFIX = "gwcluster-h"
SUBNET = "10.118.{}.{}"


@dataclass(frozen=True)
class Host:
    name: str  # the namespace; "" for a process on the machine's own network
    address: str  # where clients reach the gateway
    uplink: str  # where the gateway reaches HAProxy

    def wrap(self, command: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *command] if self.name else list(command)


LOCAL = Host("", "127.0.0.1", "127.0.0.1")


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=10)


def names(count: int) -> list[str]:
    return [f"{PREFIX}{number}" for number in range(1, count + 1)]


def remove(count: int) -> None:
    """Delete the namespaces and links of this run (or a killed earlier one); idempotent."""
    for number, name in enumerate(names(count), start=1):
        ip("link", "del", f"gwc{number}-out", check=False)
        ip("netns", "del", name, check=False)


def make_host(number: int, name: str) -> Host:
    outside, inside = f"gwc{number}-out", f"gwc{number}-in"
    uplink, address = SUBNET.format(number, 1), SUBNET.format(number, 2)
    ip("netns", "add", name)
    ip("-n", name, "link", "set", "lo", "up")
    ip("link", "add", outside, "type", "veth", "peer", "name", inside)
    ip("link", "set", inside, "netns", name)
    ip("addr", "add", f"{uplink}/30", "dev", outside)
    ip("link", "set", outside, "up")
    ip("-n", name, "addr", "add", f"{address}/30", "dev", inside)
    ip("-n", name, "link", "set", inside, "up")
    return Host(name, address, uplink)


def create(count: int) -> tuple[list[Host], str]:
    """`count` hosts, and how they are separated ("network namespaces" or why not)."""
    remove(count)
    try:
        hosts = [make_host(number, name) for number, name in enumerate(names(count), start=1)]
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or repr(exc)
        remove(count)
        log(f"hosts: no network namespaces here ({detail.strip()}); gateways run as processes")
        return [LOCAL] * count, f"processes on 127.0.0.1 (namespaces refused: {detail.strip()})"
    return hosts, "network namespaces (veth, one per gateway host)"
