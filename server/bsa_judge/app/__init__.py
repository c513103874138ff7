"""The application layer: the service's use cases, for every entry point.

The gRPC servicer, the CLI commands and the demo call `Application` (application.py) and
nothing deeper; it owns validation, judge choice and telemetry recording (and, next,
persistence of runs). `bootstrap.build` is the one composition root: it builds every
long-lived component from `Settings`.
"""
