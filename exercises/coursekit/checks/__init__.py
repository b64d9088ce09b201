"""Checkers, one module per phase (``phaseNN.py``), imported on first use."""
