"""Bounds on what an import report echoes back of the file it read.

A report quotes the file so that its author can find and fix each row, but it is stored,
replayed and downloaded: it must not grow with the file. So:

- a value quoted in a report (an external id, a cell inside a message, a field or column
  name) is cut to ``MAX_ECHO`` characters, with the number of characters left out;
- a message is at most ``MAX_MESSAGE`` characters;
- a row's external id is named once, on the row's first error (``errors.csv`` repeats
  it on each line of the row when it renders);
- a row lists at most ``MAX_ROW_ERRORS`` errors, then one line saying more were found;
- a CSV header has at most ``MAX_HEADER_COLUMNS`` columns (the templates have 13 and 15).

With ``BINOME_IMPORT_MAX_ERRORS`` errors (1000 by default) a report therefore stays under
about 1 KB per error: 1 MB at most, whatever the size of the file.
"""

import re

MAX_ECHO = 200
MAX_MESSAGE = 500
MAX_ROW_ERRORS = 20
MAX_HEADER_COLUMNS = 100

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def clip(text: str, limit: int = MAX_ECHO) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def clip_message(message: str) -> str:
    """A message with every quoted value cut to ``MAX_ECHO``, then cut to
    ``MAX_MESSAGE``."""
    if len(message) <= MAX_ECHO:
        return message
    quoted = _QUOTED.sub(lambda m: m.group(0)[0] + clip(m.group(0)[1:-1]) + m.group(0)[0], message)
    return clip(quoted, MAX_MESSAGE)
