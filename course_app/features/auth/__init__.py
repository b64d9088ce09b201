"""The ``auth`` feature of the shop API."""
