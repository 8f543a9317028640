"""The JSON log lines the registry writes (powertools' format, keys included), as an operator reads them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.observability import logger


@contextmanager
def captured_logs() -> Iterator[list[dict[str, Any]]]:
    """Every line logged inside the block, parsed, in the list yielded (filled when the block ends)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        lines += [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
