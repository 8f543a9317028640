"""The assemble step: the parts become one CSV object, by S3 multipart upload.

Parts of 5 MiB or more are copied inside S3 (UploadPartCopy); smaller ones are gathered into parts
of at least 5 MiB (S3's minimum, except for the last part), so no step holds more than about two
parts' worth of the file in memory.
"""

from __future__ import annotations

from chalicelib.export import csvparts
from chalicelib.export.criteria import Criteria
from chalicelib.store import objects

MIN_PART = 5 * 1024 * 1024
CSV = "text/csv"


def file_key(execution_id: int) -> str:
    return f"exports/{execution_id}/scandata_export_{execution_id}.csv"


def temporary_prefixes(execution_id: int) -> list[str]:
    return [f"exports/{execution_id}/batches/", f"exports/{execution_id}/parts/"]


def assemble(execution_id: int, criteria: Criteria) -> tuple[int, int]:
    """Write the file (header first) when any part has rows; returns (rows, bytes), (0, 0) for none."""
    parts = objects.list_prefix(f"exports/{execution_id}/parts/")
    rows = sum(int(objects.head(key)["meta"].get("rows", "0")) for key, _ in parts)
    if rows == 0:
        return 0, 0
    key = file_key(execution_id)
    header = csvparts.csv_line(csvparts.header(criteria)).encode()
    total = len(header) + sum(size for _, size in parts)
    if total < MIN_PART:  # small: one object
        objects.put(key, header + b"".join(objects.get(k) for k, _ in parts), content_type=CSV)
        return rows, total
    upload = objects.start_multipart(key, CSV)
    try:
        etags: list[str] = []
        buffer = bytearray(header)
        for part, size in parts:
            if size >= MIN_PART and (not buffer or len(buffer) >= MIN_PART):
                if buffer:
                    etags.append(objects.upload_part(key, upload, len(etags) + 1, bytes(buffer)))
                    buffer.clear()
                etags.append(objects.copy_part(key, upload, len(etags) + 1, part))
                continue
            buffer += objects.get(part)
            if len(buffer) >= MIN_PART:
                etags.append(objects.upload_part(key, upload, len(etags) + 1, bytes(buffer)))
                buffer.clear()
        if buffer:
            etags.append(objects.upload_part(key, upload, len(etags) + 1, bytes(buffer)))
        objects.complete_multipart(key, upload, etags)
    except Exception:
        objects.abort_multipart(key, upload)
        raise
    return rows, total
