"""The ``products`` feature of the shop API."""
