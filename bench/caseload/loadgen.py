"""Light, paced load for the caseload benchmark: a fixed request rate spread over a few keep-alive connections.

Run by ``python -m bench.caseload`` as a separate process::

    python -m bench.caseload.loadgen --port 8123 --path /api/v1/teams/…/caseload?limit=50 \
        --tokens staff_tokens.txt --rate 4 --connections 2 --duration 30

Requests are sent on a fixed schedule (``--rate`` per second over all connections), not as fast as
the server answers, so the server is loaded lightly and the latency is that of a request arriving at
a server with spare capacity. Latency is measured from the scheduled start, so an answer that makes
the next request start late counts that wait too (no coordinated omission). Prints one
``BENCH_RESULT {...}`` line with every latency (``bench.today.loadgen.run_paced``, the benchmarks' one
paced load generator). Only loopback addresses are accepted.
"""

import argparse
import json
import sys
from pathlib import Path

from bench.today.loadgen import paced_arguments, paced_parse, run_paced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    paced_arguments(parser, duration=30.0, connections=2)
    parser.add_argument("--path", required=True)
    parser.add_argument("--tokens", type=Path, required=True)
    arguments = paced_parse(parser, argv)

    tokens = [line.strip() for line in arguments.tokens.read_text().splitlines() if line.strip()]

    def request(number: int) -> tuple[str, str, str, bytes | None]:
        return "GET", arguments.path, tokens[number % len(tokens)], None

    result = run_paced(
        [request] * arguments.connections,
        host=arguments.host,
        port=arguments.port,
        rate=arguments.rate,
        duration=arguments.duration,
        timeout=arguments.timeout,
        every_latency=True,
    )
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
