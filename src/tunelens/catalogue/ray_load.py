"""Load big catalogue sources on Ray Data: many or large CSV/Parquet files, rows validated in
parallel by the same row code as the local loader.

``tunelens catalog build SOURCE --engine ray`` reads SOURCE (a CSV/TSV/Parquet file, or a
folder of them) with Ray Data: each file's header is resolved once on the driver
(:func:`~tunelens.catalogue.csv_loader.csv_layout`, the local loader's own layout), the rows
are parsed by Arrow in Ray tasks and validated in ``map_batches`` by
:func:`~tunelens.catalogue.rows.build_record` — the function the local CSV loader calls per
row. The driver receives the validated records in input order (Ray Data's ``preserve_order``)
and merges duplicates with the local loader's :func:`~tunelens.catalogue.load_report.finish_load`,
so the catalogue — and its hash — are the local build's for the same file. Only the parsing
and validation are distributed: merging needs every row, and the index is built once.

Every CSV cell is read as text (no type inference, no null markers), exactly like Python's
``csv`` module, so ``NA``, ``null`` or ``1e3`` mean what the row rules say. A row Arrow
cannot parse (wrong number of fields) stops the build with the file and Arrow's reason;
``--engine local`` lists every such row instead. Line numbers of skipped rows count data
rows from line 2 and are exact for files without multi-line quoted fields.

Needs ``pip install 'tunelens[ray]'``. With ``RAY_ADDRESS`` set the build joins that cluster;
otherwise a local Ray instance with ``workers`` CPUs is started (and stopped afterwards).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelens.catalogue.csv_loader import CsvLayout, csv_layout
from tunelens.catalogue.load_report import LoadReport, RowProblem, RowTally, finish_load
from tunelens.catalogue.rows import SourceRecord, build_record
from tunelens.core.errors import CatalogError, InvalidRequest
from tunelens.core.ray_start import require_ray, start_ray

__all__ = ["RAY_SUFFIXES", "load_with_ray"]

#: the files the Ray build reads (a folder is searched for these, recursively)
RAY_SUFFIXES = (".csv", ".tsv", ".parquet")
_BATCH_ROWS = 4096


@dataclass(frozen=True)
class _Input:
    """One file to read and how its columns map to the canonical fields."""

    path: Path
    layout: CsvLayout
    delimiter: str | None  # None: Parquet
    columns: int


def _inputs(source: Path) -> list[_Input]:
    """The files under ``source`` with their layouts (headers checked before Ray starts)."""
    if source.is_dir():
        paths = sorted(
            p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in RAY_SUFFIXES
        )
    else:
        paths = [source]
    if not paths:
        raise CatalogError(
            f"{source} holds no {', '.join(RAY_SUFFIXES)} files for the Ray build",
            code="catalog_missing",
        )
    inputs = []
    for path in paths:
        suffix = path.suffix.lower()
        if suffix not in RAY_SUFFIXES:
            raise CatalogError(
                f"--engine ray reads CSV, TSV or Parquet files, not {path.name}; build it "
                "with --engine local",
                code="catalog_invalid",
            )
        if suffix == ".parquet":
            import pyarrow.parquet as pq  # noqa: PLC0415 - comes with the ray extra

            names = list(pq.read_schema(path).names)
            inputs.append(_Input(path, CsvLayout.from_header(names, path), None, len(names)))
        else:
            layout, delimiter, columns = csv_layout(path)
            inputs.append(_Input(path, layout, delimiter, columns))
    return inputs


def _validate(batch: Any, layout: CsvLayout, file: int) -> dict[str, list[Any]]:
    """One batch of rows (an Arrow table, columns in file order) → pickled (record, reasons)."""
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    results = []
    for r in range(batch.num_rows):
        row = [column[r] for column in columns]
        results.append(
            pickle.dumps(build_record(layout.getter(row), layout.column_of, 0, source="spotify"))
        )
    return {"file": [file] * batch.num_rows, "result": results}


def _dataset(ray: Any, item: _Input) -> Any:
    if item.delimiter is None:
        return ray.data.read_parquet(str(item.path))
    import pyarrow as pa  # noqa: PLC0415 - comes with the ray extra
    from pyarrow import csv as pa_csv  # noqa: PLC0415 - comes with the ray extra

    names = [f"c{i}" for i in range(item.columns)]
    return ray.data.read_csv(
        str(item.path),
        read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, encoding="utf8"),
        parse_options=pa_csv.ParseOptions(delimiter=item.delimiter, newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _collect(results: Any, inputs: list[_Input], tally: RowTally) -> None:
    """Driver side: records in input order into ``tally``, problems with file and line."""
    seen = [0] * len(inputs)
    many = len(inputs) > 1
    for batch in results.iter_batches(batch_size=None, batch_format="pyarrow"):
        files = batch.column("file").to_pylist()
        for file, blob in zip(files, batch.column("result").to_pylist(), strict=True):
            seen[file] += 1
            line = seen[file] + 1  # the header is line 1
            record: SourceRecord | None
            record, reasons = pickle.loads(blob)  # our own tasks wrote it
            tally.rows_read += 1
            if record is None:
                name = str(inputs[file].path) if many else None
                tally.problems.append(RowProblem(line, "; ".join(reasons), file=name))
            else:
                record.line = line
                tally.records.append(record)


def load_with_ray(
    source: Path, *, workers: int = 2, progress: Callable[[str], None] | None = None
) -> LoadReport:
    """Load ``source`` (a CSV/TSV/Parquet file or a folder of them) on Ray Data; the same
    :class:`LoadReport` the local loader gives for the same rows."""
    inputs = _inputs(source)
    ray = require_ray("build with --engine local")
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.WARNING)
    started_here = start_ray(ray, workers)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        datasets = [
            _dataset(ray, item).map_batches(
                _validate,
                fn_kwargs={"layout": item.layout, "file": i},
                batch_format="pyarrow",
                batch_size=_BATCH_ROWS,
            )
            for i, item in enumerate(inputs)
        ]
        results = datasets[0].union(*datasets[1:]) if len(datasets) > 1 else datasets[0]
        formats = sorted({item.layout.format for item in inputs})
        tally = RowTally(source=str(source), format="+".join(formats))
        if progress is not None:
            progress(f"reading {len(inputs)} file(s) on Ray ({workers} CPUs locally)")
        try:
            _collect(results, inputs, tally)
        except (CatalogError, InvalidRequest):
            raise
        except Exception as exc:  # Arrow parse errors arrive wrapped by Ray
            raise CatalogError(
                f"the Ray build could not read {source}: {_reason(exc)}; build with "
                "--engine local to list every unreadable row",
                code="catalog_invalid",
            ) from exc
    finally:
        if started_here:
            ray.shutdown()
    return finish_load(tally)


def _reason(exc: BaseException) -> str:
    """The innermost message of a Ray-wrapped error (Arrow's own words)."""
    text = str(exc).strip().splitlines()
    useful = [line for line in text if "Error" in line or "error" in line]
    return (useful[-1] if useful else (text[-1] if text else type(exc).__name__))[:300]
