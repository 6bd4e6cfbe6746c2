"""Archive chunks scored on a Dask cluster (`framestance[dask]`): the model goes to each worker once, chunks
are scored in parallel, a few per worker in flight so memory stays bounded."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator

import pyarrow as pa

from models.archive import Rows, score_rows
from models.training import Model

IN_FLIGHT_PER_WORKER = 2


def score_on_dask(
    model: Model,
    chunks: Iterable[tuple[int, str, Rows]],
    schema: pa.Schema,
    scheduler: str | None = None,
    workers: int | None = None,
) -> Iterator[tuple[int, int, tuple]]:
    """Each chunk's number, row count and scored table with its skipped rows, in the order they finish.

    `scheduler` is the address of a running cluster; without one, a local cluster of `workers` processes
    (default: one per core) is started and stopped here."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ImportError("the dask engine needs Dask: pip install 'framestance[dask]'") from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    try:
        limit = IN_FLIGHT_PER_WORKER * max(len(client.scheduler_info()["workers"]), 1)
        remote = client.scatter(model, broadcast=True)
        running = as_completed()
        meta = {}
        for number, file, rows in chunks:
            future = client.submit(score_rows, remote, file, rows, schema, pure=False)
            meta[future.key] = (number, len(rows))
            running.add(future)
            if running.count() >= limit:
                yield _result(next(running), meta)
        for future in running:
            yield _result(future, meta)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _result(future, meta: dict) -> tuple[int, int, tuple]:
    number, rows = meta.pop(future.key)
    result = future.result()
    future.release()
    return number, rows, result
