"""The ``users`` feature of the shop API."""
