"""The ``orders`` feature of the shop API."""
