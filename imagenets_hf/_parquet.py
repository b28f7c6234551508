"""Parquet writing with images embedded, as push_to_hub writes shards, at close to file-copy speed.

The builder references images by path; a hub dataset must carry their bytes.
Files are read straight into one Arrow buffer per batch (no Python bytes object
per image), and JPEG/PNG bytes are stored uncompressed (they do not compress).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datasets

ROW_GROUP_ROWS = 100
"""Rows per Parquet row group. Streaming and the hub's viewer read a whole row group to get one row:
100 images (~10 MB) keeps that cheap, as datasets 3.x did for image datasets."""


def media_columns(features: datasets.Features) -> list[str]:
    import datasets

    return [name for name, feature in features.items() if isinstance(feature, (datasets.Image, datasets.Audio))]


def gone_since_build(path: str) -> FileNotFoundError:
    return FileNotFoundError(f"{path} is gone since the dataset was built: restore it, or rebuild and export again")


def is_plain_local_path(path: str) -> bool:
    return "://" not in path and "::" not in path


def _read_files(paths: list[str | None]):
    """pa.BinaryArray of the files' bytes (null where `paths` is None), read straight into one Arrow buffer.

    Reading with readinto into a preallocated buffer avoids a Python bytes object
    and a copy per image: the export then costs little more than copying the files.
    """
    import numpy as np
    import pyarrow as pa

    try:
        sizes = np.array([os.stat(path).st_size if path is not None else 0 for path in paths], dtype=np.int64)
    except FileNotFoundError as error:
        raise gone_since_build(error.filename) from None
    offsets = np.zeros(len(paths) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    view = memoryview(data)
    for path, start, size in zip(paths, offsets[:-1], sizes):
        if path is not None:
            with open(path, "rb", buffering=0) as file:
                read = file.readinto(view[start : start + size])
            if read != size:
                raise OSError(f"{path} changed while being read ({read} of {size} bytes): re-run the export")
    valid = np.array([path is not None for path in paths], dtype=bool)
    validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if not valid.all() else None
    if offsets[-1] < 2**31:  # binary's int32 offsets: no cast, no copy
        return pa.BinaryArray.from_buffers(
            pa.binary(), len(paths), [validity, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)]
        )
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(paths), [validity, pa.py_buffer(offsets), pa.py_buffer(data)]
    ).cast(pa.binary())


def _embed_media_column(storage, feature):
    """Image/Audio storage (struct<bytes, path>) with file bytes embedded and paths reduced to base names."""
    import pyarrow as pa
    import pyarrow.compute as pc

    paths = storage.field("path").to_pylist()
    has_bytes = storage.field("bytes").is_valid().to_pylist()
    missing = storage.is_null().to_pylist()
    if any(p is not None and not b and not is_plain_local_path(p) for p, b in zip(paths, has_bytes)):
        # zip://, tar:// or remote files: datasets' own embedding reads them through fsspec
        from datasets.table import embed_array_storage

        return embed_array_storage(storage, feature)
    to_read = [p if (p is not None and not b and not m) else None for p, b, m in zip(paths, has_bytes, missing)]
    data = storage.field("bytes")
    if any(p is not None for p in to_read):
        read = _read_files(to_read)
        # the builder references every image by path: then no value to merge (and no 10 MB copy per batch)
        data = read if data.null_count == len(data) else pc.coalesce(data, read)
    names = pa.array([os.path.basename(p) if p is not None else None for p in paths], type=pa.string())
    return pa.StructArray.from_arrays([data, names], names=["bytes", "path"], mask=storage.is_null())


def _embed(table, features: datasets.Features):
    """`table` with every image/audio referenced by a path replaced by the file's bytes (as push_to_hub does)."""
    import pyarrow as pa

    media = set(media_columns(features))
    columns = [
        _embed_media_column(table[name].combine_chunks(), features[name]) if name in media else table[name]
        for name in table.column_names
    ]
    return pa.Table.from_arrays(columns, schema=features.arrow_schema)


def _parquet_options(features: datasets.Features) -> dict[str, Any]:
    media = set(media_columns(features))
    return {
        # JPEG and PNG bytes do not compress: snappy on them only costs time. Strings still compress.
        "compression": {
            **{f"{name}.bytes": "none" for name in media},
            **{name: "snappy" for name in features if name not in media},
            **{f"{name}.path": "snappy" for name in media},
        },
        # min/max statistics of image bytes are useless (and pyarrow truncates them anyway)
        "write_statistics": [name for name in features if name not in media],
        "use_dictionary": [name for name in features if name not in media],
    }


def fsync_file(path: str) -> None:
    """Flush `path`'s data to disk, so that once renamed into place a shard survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_embedded_parquet(dataset: datasets.Dataset, path: str) -> int:
    """Write `dataset` to the Parquet file `path`, images embedded, ROW_GROUP_ROWS rows per row group.

    Returns the Arrow bytes written (embedded), the `num_bytes` of a split in the card's YAML.
    """
    import pyarrow.parquet as pq

    features = dataset.features
    schema = features.arrow_schema
    num_bytes = 0
    # a path, so pyarrow uses its own file output: through a Python file object every page would
    # cost a Python call and a copy
    with pq.ParquetWriter(path, schema, **_parquet_options(features)) as writer:
        for table in dataset.with_format("arrow").iter(batch_size=ROW_GROUP_ROWS):
            table = _embed(table, features)
            num_bytes += table.nbytes
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        if len(dataset) == 0:
            writer.write_table(schema.empty_table())
    return num_bytes
