"""Benchmarks. `make bench` runs the onsale rush: `python -m bench.onsale --help`.

Modules:
    onsale     the command: arguments, orchestration, the report, the exit status
    fixtures   its own database and Redis db: drop, create, migrate, seed
    reference  the same-run reference: pgbench's bare hold transaction on the same server
    targets    issue 12's targets as ratios to that reference: PASS or MISS
    server     gunicorn with the repository's gunicorn.conf.py on a free loopback port
    gunicorn_conf  that configuration plus each worker's CPU per kind of request
    load       the aiohttp buyers and the seat-map read phase
    integrity  SQL checks of the claims, holds, orders and tickets after the rush
    stats      latency percentiles and counters
    cpu        who used the CPU during a phase (/proc), and the workers' CPU per kind
"""
