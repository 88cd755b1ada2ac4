"""Light, paced load for the caseload benchmark: a fixed request rate spread over a few keep-alive connections.

Run by ``python -m bench.caseload`` as a separate process::

    python -m bench.caseload.loadgen --port 8123 --path /api/v1/teams/…/caseload?limit=50 \
        --tokens staff_tokens.txt --rate 4 --connections 2 --duration 30

Requests are sent on a fixed schedule (``--rate`` per second over all connections), not as fast as
the server answers, so the server is loaded lightly and the latency is that of a request arriving at
a server with spare capacity. Latency is measured from the scheduled start, so an answer that makes
the next request start late counts that wait too (no coordinated omission). Prints one
``BENCH_RESULT {...}`` line with every latency: ``bench.today.loadgen`` (the benchmarks' one paced load
generator) with ``--every-latency``. Only loopback addresses are accepted.
"""

import sys

from bench.today import loadgen


def main(argv: list[str] | None = None) -> int:
    return loadgen.main([*(sys.argv[1:] if argv is None else argv), "--every-latency"])


if __name__ == "__main__":
    sys.exit(main())
