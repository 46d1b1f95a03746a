"""What an operator sees of a running Marquee: logs with a request id, error reports, metrics
and the heartbeats of the worker and beat (read by `/readyz`). See docs/operations.md."""
