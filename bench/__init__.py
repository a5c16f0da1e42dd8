"""Benchmarks for Wenzheng: throughput, latency and scale against a ceiling and a peer, in one run.

``python -m bench --help``. Benchmarks report; they never fail a test run. Every server a scenario
starts is its own process on 127.0.0.1 and is stopped when the scenario ends, also on failure.
"""
