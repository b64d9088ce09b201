"""Liveness (``/health``) and readiness (``/ready``) probes."""
