"""What text input may contain.

Control characters have no place in a name or a search term, and one of them, NUL
(``\\x00``), is worse than odd: PostgreSQL cannot store it in ``text`` and fails the whole
statement ("invalid byte sequence for encoding UTF8: 0x00"), so a NUL that reaches a
query is a 500. Every free-text input field therefore carries one of these patterns,
and the client gets a 422 that names the field instead.
"""

from __future__ import annotations

from typing import Final

#: One line of text: no C0 control characters, no DEL.
NO_CONTROL_CHARS: Final = r"^[^\x00-\x1f\x7f]*$"
#: Several lines: tabs and line breaks allowed, every other control character refused.
MULTILINE_TEXT: Final = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
