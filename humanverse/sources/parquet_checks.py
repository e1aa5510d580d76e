"""Not trusting what a metadata parquet says about itself: its footer's row counts, and its text cells' sizes.

A footer is a few hundred bytes anyone can write: a 742-byte file that claimed 1e8 rows planned 24,000
tasks and wrote as many empty shards (1e12: MemoryError). Every row of LAION/COYO metadata holds a URL, so
the URL column chunk of a row group needs bytes in proportion to its rows, and those bytes must lie inside
the file. A row group claiming more than MAX_ROWS_PER_BYTE rows per byte of its URL chunk is refused.

A text cell can hold megabytes, and a dictionary-encoded page lets a few kilobytes of file repeat one huge
value on every row (a 5.8 KB file took a run from 1.7 to 5.2 GiB). pyarrow decodes such a column into one
value per row, so the rows read at a time are sized from the text columns' dictionary pages: a value is at
most its dictionary page's size (read from the page header, which the decompressor holds the page to), and
a batch of rows x those sizes stays under TEXT_BATCH_BYTES. Cells are then cut to MAX_TEXT_CHARS before they
become Python strings. (Reading the columns as arrow dictionaries instead was 15x slower on real URL columns,
whose dictionaries fall back to plain pages, and held every earlier batch's dictionary.)
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from humanverse.sources.input_error import InputError
from humanverse.sources.metadata_values import MAX_TEXT_CHARS

MAX_ROWS_PER_BYTE = 64
"""Rows per byte of a row group's URL column chunk. Distinct URLs cost several bytes a row even
compressed (~0.2 rows per byte measured on LAION-style URLs); only a column repeating one value comes near."""
UNCHECKED_ROWS = 4096
"""Row groups up to this many rows are not held to MAX_ROWS_PER_BYTE (footers and headers dominate)."""


def check_row_counts(path: str, meta: pq.FileMetaData, url_column: str, file_size: int) -> None:
    """Raises InputError when the footer's row counts cannot be what the file holds."""
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    if any(g.num_rows < 0 for g in groups) or sum(g.num_rows for g in groups) != meta.num_rows:
        raise InputError(f"{path}: the parquet footer's row count ({meta.num_rows}) is not the sum of its row "
                         "groups'; the file is damaged or forged: rewrite it or leave it out of --input")
    for index, group in enumerate(groups):
        chunk = _column_chunk(group, url_column)
        if chunk is None:
            continue
        start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
        size = chunk.total_compressed_size
        if start is None or start < 0 or size < 0 or start + size > file_size:
            raise InputError(f"{path}: row group {index}'s column {url_column!r} lies outside the file "
                             f"({file_size} bytes); the file is damaged or forged: rewrite it or leave it out")
        if group.num_rows > max(UNCHECKED_ROWS, size * MAX_ROWS_PER_BYTE):
            raise InputError(f"{path}: row group {index} claims {group.num_rows} rows, but its column "
                             f"{url_column!r} has {size} bytes (at most {MAX_ROWS_PER_BYTE} rows a byte are "
                             "believed); the footer is damaged or forged: rewrite the file or leave it out")


def _column_chunk(group: pq.RowGroupMetaData, column: str):
    for j in range(group.num_columns):
        chunk = group.column(j)
        if chunk.path_in_schema == column or chunk.path_in_schema.startswith(column + "."):
            return chunk
    return None


TEXT_BATCH_BYTES = 256 * 2**20
"""What one batch's text columns may take once decoded, at worst (a real LAION row group's ~1 MB URL and
caption dictionaries give 128-row batches; parquet reading is far from the fetch path's cost)."""
_DICTIONARY_PAGE = 2
_HEADER_PEEK = 32


def batch_rows(f, group: pq.RowGroupMetaData, texts: list[str], most: int) -> int:
    """Rows per batch for this row group: `most`, or fewer so that rows x (sum of the text columns'
    dictionary page sizes) stays under TEXT_BATCH_BYTES."""
    largest = 0
    for column in texts:
        chunk = _column_chunk(group, column)
        if chunk is not None and chunk.has_dictionary_page:
            largest += _dictionary_page_bytes(f, chunk.dictionary_page_offset, chunk.total_uncompressed_size)
    return max(1, min(most, TEXT_BATCH_BYTES // max(1, largest)))


def _dictionary_page_bytes(f, offset: int, fallback: int) -> int:
    """The uncompressed size from the page header at `offset`: thrift compact fields 1 (type), 2
    (uncompressed_page_size) and 3 (compressed size), each a short-form i32. A header that does not read as
    a dictionary page gives `fallback` (the footer's size of the whole chunk), the safe side."""
    try:
        f.seek(offset)
        head = f.read(_HEADER_PEEK)
    except (OSError, ValueError):
        return max(fallback, 1)
    values, field, at = {}, 0, 0
    while at < len(head) and len(values) < 2:
        byte = head[at]
        delta, kind = byte >> 4, byte & 0x0F
        if delta == 0 or kind != 5:  # 5: i32
            break
        field += delta
        number, shift, at = 0, 0, at + 1
        while at < len(head) and shift < 35:
            number |= (head[at] & 0x7F) << shift
            shift += 7
            at += 1
            if not head[at - 1] & 0x80:
                break
        values[field] = (number >> 1) ^ -(number & 1)
    if values.get(1) != _DICTIONARY_PAGE or values.get(2, -1) < 0:
        return max(fallback, 1)
    return values[2]


def text_columns(schema: pa.Schema, columns: list[str]) -> list[str]:
    """The columns among `columns` that hold strings or bytes: those cut, and whose dictionary pages size
    the batches."""
    return [c for c in columns if _is_text(schema.field(c).type)]


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) \
        or pa.types.is_large_binary(kind)


def cap_text(batch: pa.RecordBatch, columns: list[str]) -> tuple[pa.RecordBatch, dict[str, list[bool]]]:
    """The batch with every text column cut to MAX_TEXT_CHARS (bytes: MAX_TEXT_CHARS bytes), and per column
    which rows were cut. Dictionary columns are cut on their dictionary, before any value is repeated."""
    cut: dict[str, list[bool]] = {}
    arrays = list(batch.columns)
    for column in columns:
        at = batch.schema.get_field_index(column)
        array = arrays[at]
        if array.nbytes <= MAX_TEXT_CHARS:  # no value can be longer than all of them together
            continue
        if isinstance(array, pa.DictionaryArray):
            long = _too_long(array.dictionary)
            if not pc.any(long).as_py():
                continue
            arrays[at] = pa.DictionaryArray.from_arrays(array.indices, _slice(array.dictionary))
            cut[column] = pc.fill_null(pc.take(long, array.indices), False).to_pylist()
        else:
            long = _too_long(array)
            if not pc.any(long).as_py():
                continue
            arrays[at] = _slice(array)
            cut[column] = pc.fill_null(long, False).to_pylist()
    if not cut:
        return batch, cut
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names), cut


def _too_long(array: pa.Array) -> pa.Array:
    lengths = pc.utf8_length(array) if _is_string(array.type) else pc.binary_length(array)
    return pc.greater(lengths, MAX_TEXT_CHARS)


def _slice(array: pa.Array) -> pa.Array:
    if _is_string(array.type):
        return pc.utf8_slice_codeunits(array, 0, MAX_TEXT_CHARS)
    return pc.binary_slice(array, 0, MAX_TEXT_CHARS)


def _is_string(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)
