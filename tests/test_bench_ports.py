"""The benchmarks' one port chooser (``bench.__main__.free_ports``): inside ``$BENCH_PORTS`` on a shared
machine, never a port in use, and never the same port twice before a server has bound it."""

import socket

import pytest

from bench.__main__ import free_port, free_ports


def _free_span(size: int) -> int:
    """The first of ``size`` consecutive free ports high in the range, for the test's own use."""
    for low in range(40_000, 60_000, size):
        if all(_free(port) for port in range(low, low + size)):
            return low
    raise AssertionError("no free span of ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_ports_come_from_the_range_in_turn_and_skip_one_in_use(monkeypatch):
    low = _free_span(4)
    monkeypatch.setenv("BENCH_PORTS", f"{low}-{low + 3}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", low + 1))
        taken.listen()
        chosen = [free_port(), free_port(), free_port()]
    assert low + 1 not in chosen
    assert len(set(chosen)) == 3
    assert set(chosen) <= {low, low + 2, low + 3}


def test_more_ports_than_the_range_holds_is_refused(monkeypatch):
    low = _free_span(2)
    monkeypatch.setenv("BENCH_PORTS", f"{low}-{low + 1}")
    with pytest.raises(SystemExit, match="fewer than 3 free ports"):
        free_ports(3)


def test_a_base_gives_consecutive_free_ports_from_it(monkeypatch):
    monkeypatch.delenv("BENCH_PORTS", raising=False)
    low = _free_span(3)
    assert free_ports(3, low) == [low, low + 1, low + 2]


def test_a_malformed_range_is_refused(monkeypatch):
    monkeypatch.setenv("BENCH_PORTS", "27539-27520")
    with pytest.raises(SystemExit, match="is not a range of ports"):
        free_port()
