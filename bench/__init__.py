"""Benchmarks. `make bench` runs the onsale rush: `python -m bench.onsale --help`.

Modules:
    onsale     the command: arguments, orchestration, the report, the exit status
    fixtures   its own database and Redis db: drop, create, migrate, seed
    server     gunicorn with the repository's gunicorn.conf.py on a free loopback port
    load       the aiohttp buyers and the seat-map read phase
    integrity  SQL checks of the claims, holds, orders and tickets after the rush
    stats      latency percentiles and counters
"""
