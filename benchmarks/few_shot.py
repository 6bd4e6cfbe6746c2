"""Learning from few labels: does contrastive fine-tuning of the encoder (SetFit) beat frozen sentence embeddings?

For SemEval-2016 Task 6 (F_avg ×100), NewsMTSC (macro-F1 ×100) and GVFC's primary frame (accuracy ×100), read
from `../shared/benchmarks/`: a stratified random sample of 50, 100 and 250 rows of the training file (SemEval
stratified on target and stance, the others on the label), three seeds each; every setting is fitted on the
sample and the whole test file is scored once per fit. Settings:

- `tfidf`: StanceClassifier / FrameClassifier with their defaults.
- `frozen+LR`: the bundled all-MiniLM-L6-v2 as it is, logistic regression on its embeddings.
- `frozen+tfidf`: the classifier's own tfidf+embeddings construction (its n-grams plus the embeddings).
- `setfit+LR`: SetFit — the bundled encoder fine-tuned contrastively on pairs of the sample (same label:
  similar, other label: not; cosine-similarity loss), then logistic regression on its embeddings.
- `setfit+tfidf`: the classifier's n-grams plus the fine-tuned embeddings.

The encoder reads the target too: "target: tweet" for SemEval, the sentence with its mention in [brackets] for
NewsMTSC (the `*+tfidf` settings get the same text, with the offsets moved to the bracketed mention). The
logistic regression on embeddings is the same in both `*+LR` settings (C=1, balanced class weights), so the
two differ only in the encoder. Training seconds are per fit: encoding the sample (and fine-tuning, for SetFit)
and fitting. Printed: per setting, data set and sample size, the mean test figure over seeds, its range, and
the mean training seconds.

    .venv/bin/python benchmarks/few_shot.py [--data semeval,newsmtsc,gvfc] [--sizes 50,100,250]
        [--seeds 0,1,2] [--steps 16] [--rows FILE] [--table FILE ...]

`--steps` is SetFit's number of training batches (16 pairs each) per fit, whatever the sample size. `--rows`
appends each fit's figures to FILE as JSON lines; `--table FILE ...` prints the table from such files (several
runs, e.g. one per data set in parallel) without fitting anything. Torch uses at most 2 threads (`--threads`).
SetFit is not a dependency of framestance (this measurement found it no better than frozen embeddings at
these sizes); install it for this script with `pip install 'framestance[benchmarks]'`.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from public_data import DATA, f_avg, gvfc_primary_xy, macro_f1, newsmtsc_xy, read, semeval_xy
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion

from models.embeddings import load_encoder, model_path
from models.estimators import FrameClassifier, StanceClassifier
from models.features import text_features

SEED = 0
BATCH = 16  # pairs per SetFit training batch
MAX_TOKENS = 128  # both encoders read at most this many tokens of a text
SETTINGS = ("tfidf", "frozen+LR", "frozen+tfidf", "setfit+LR", "setfit+tfidf")


@dataclass
class Task:
    """One data set: how to read it, what the encoder reads, which classifier, how to score."""

    folder: str
    load: Callable[[pd.DataFrame], tuple[Any, np.ndarray]]
    mark: Callable[[Any], Any]
    strata: Callable[[pd.DataFrame], np.ndarray]
    make: Callable[..., BaseEstimator]
    score: Callable[[Any, Any], float]


def semeval_mark(X: pd.DataFrame) -> pd.DataFrame:
    """The rows with their target written before the tweet."""
    return X.assign(text=X["target"] + ": " + X["text"])


def newsmtsc_mark(X: pd.DataFrame) -> pd.DataFrame:
    """The rows with the mention of their target put in brackets, and the offsets moved onto it."""
    texts = [
        f"{text[:a]}[{text[a:b]}]{text[b:]}"
        for text, a, b in zip(X["text"], X["target_from"], X["target_to"], strict=True)
    ]
    return X.assign(text=texts, target_from=X["target_from"] + 1, target_to=X["target_to"] + 1)


def stance(**params: Any) -> StanceClassifier:
    return StanceClassifier(random_state=SEED, **params)


def frame(**params: Any) -> FrameClassifier:
    return FrameClassifier(multi_label=False, random_state=SEED, **params)


TASKS = {
    "semeval": Task(
        folder="semeval2016_task6",
        load=semeval_xy,
        mark=semeval_mark,
        strata=lambda f: (f["target"] + "|" + f["label"]).to_numpy(),
        make=stance,
        score=f_avg,
    ),
    "newsmtsc": Task(
        folder="newsmtsc",
        load=newsmtsc_xy,
        mark=newsmtsc_mark,
        strata=lambda f: f["label"].to_numpy(),
        make=stance,
        score=macro_f1,
    ),
    "gvfc": Task(
        folder="gvfc",
        load=gvfc_primary_xy,
        mark=lambda X: X,
        strata=lambda f: f["label"].to_numpy(),
        make=frame,
        score=lambda y_true, y_pred: 100 * float(np.mean(np.asarray(y_true) == np.asarray(y_pred))),
    ),
}


@dataclass
class Row:
    """One fit's figures."""

    data: str
    size: int
    seed: int
    setting: str
    score: float
    seconds: float


# ---------------------------------------------------------------- encoders


class CachedEncoder(TransformerMixin, BaseEstimator):
    """Texts to L2-normalised embeddings from a loaded SentenceTransformer, each distinct text encoded once."""

    def __init__(self, encoder: Any = None):
        self.encoder = encoder

    def fit(self, texts: Any, y: Any = None) -> CachedEncoder:
        """Nothing to learn."""
        return self

    def transform(self, texts: Any) -> np.ndarray:
        """One row per text."""
        texts = [str(text) for text in texts]
        memory = self.__dict__.setdefault("_memory", {})
        missing = list(dict.fromkeys(text for text in texts if text not in memory))
        if missing:
            vectors = self.encoder.encode(
                missing, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
            memory.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
        return np.stack([memory[text] for text in texts])


def frozen_encoder() -> Any:
    """The bundled all-MiniLM-L6-v2, loaded once per process from the package's folder (read only)."""
    encoder = load_encoder(model_path(None))
    encoder.max_seq_length = MAX_TOKENS
    return encoder


def setfit_encoder(texts: list[str], labels: np.ndarray, steps: int, seed: int) -> Any:
    """A fresh copy of the bundled encoder, fine-tuned contrastively (SetFit) on the labelled texts."""
    from setfit import SetFitModel, Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback

    model = SetFitModel.from_pretrained(str(model_path(None)), device="cpu")
    model.model_body.max_seq_length = MAX_TOKENS
    codes = np.unique(labels, return_inverse=True)[1].tolist()
    with tempfile.TemporaryDirectory() as folder:
        args = TrainingArguments(
            output_dir=folder,
            batch_size=BATCH,
            num_epochs=1,
            max_steps=steps,
            seed=seed,
            save_strategy="no",
            logging_strategy="no",
            report_to="none",
            show_progress_bar=False,
        )
        trainer = Trainer(model=model, args=args)
        trainer.st_trainer.remove_callback(PrinterCallback)  # it prints the training loss with no progress bar
        trainer.train_embeddings(texts, codes, args=args)
    return model.model_body


def quiet() -> None:
    """Silence the progress bars and info logs of the Hugging Face libraries."""
    import datasets
    import setfit
    import transformers

    datasets.disable_progress_bars()
    setfit.logging.set_verbosity_error()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()


# ---------------------------------------------------------------- fitting


def texts_of(X: Any) -> list[str]:
    """The texts the encoder reads."""
    return X["text"].tolist() if isinstance(X, pd.DataFrame) else list(X)


def sample(task: Task, frame_: pd.DataFrame, size: int, seed: int) -> tuple[Any, np.ndarray]:
    """A stratified random sample of `size` rows of the training file."""
    rows, _ = train_test_split(np.arange(len(frame_)), train_size=size, stratify=task.strata(frame_), random_state=seed)
    return task.load(frame_.iloc[np.sort(rows)].reset_index(drop=True))


def head() -> LogisticRegression:
    """The classifier on embeddings, the same for frozen and fine-tuned ones."""
    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """What `function` returns, and how many seconds it took."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def with_embeddings(task: Task, encoder: CachedEncoder, X: Any, y: np.ndarray) -> BaseEstimator:
    """The task's classifier on its tfidf n-grams plus `encoder`'s embeddings."""
    union = FeatureUnion([*text_features("tfidf").transformer_list, ("embeddings", encoder)])
    union.fit(list(dict.fromkeys(texts_of(X))))
    return task.make(vectorizer=union).fit(X, y)


def embedding_scores(
    task: Task, encoder: CachedEncoder, train: tuple[Any, np.ndarray], test: tuple[Any, np.ndarray]
) -> dict[str, tuple[float, float]]:
    """Test score and fitting seconds of `*+LR` and `*+tfidf` on one encoder, both on the marked texts."""
    (X, y), (X_test, y_test) = train, test
    vectors, encode_seconds = timed(lambda: encoder.transform(texts_of(X)))
    model, seconds = timed(lambda: head().fit(vectors, y))
    test_vectors = encoder.transform(texts_of(X_test))
    linear = (task.score(y_test, model.predict(test_vectors)), encode_seconds + seconds)
    combined, seconds = timed(lambda: with_embeddings(task, encoder, X, y))
    return {"LR": linear, "tfidf": (task.score(y_test, combined.predict(X_test)), encode_seconds + seconds)}


def one_run(
    task: Task, train: tuple[Any, np.ndarray], test: tuple[Any, np.ndarray], test_memory: dict, steps: int, seed: int
) -> dict[str, tuple[float, float]]:
    """Every setting fitted on one sample: test score and training seconds."""
    X, y = train
    X_test, y_test = test
    model, seconds = timed(lambda: task.make().fit(X, y))
    results = {"tfidf": (task.score(y_test, model.predict(X_test)), seconds)}
    marked, marked_test = (task.mark(X), y), (task.mark(X_test), y_test)
    frozen = CachedEncoder(frozen_encoder())
    frozen._memory = dict(test_memory)  # the test texts' frozen embeddings, computed once for every run
    for kind, figures in embedding_scores(task, frozen, marked, marked_test).items():
        results[f"frozen+{kind}"] = figures
    body, tune_seconds = timed(lambda: setfit_encoder(texts_of(marked[0]), y, steps, seed))
    for kind, (score, seconds) in embedding_scores(task, CachedEncoder(body), marked, marked_test).items():
        results[f"setfit+{kind}"] = (score, tune_seconds + seconds)
    return results


def run_task(name: str, sizes: list[int], seeds: list[int], steps: int, rows_file: Path | None) -> list[Row]:
    """Every sample size and seed of one data set; each fit's row is printed (and saved) as it comes."""
    task = TASKS[name]
    folder = DATA / task.folder
    train_frame = read(folder, "train")
    test = task.load(read(folder, "test"))
    warm = CachedEncoder(frozen_encoder())
    warm.transform(texts_of(task.mark(test[0])))
    rows = []
    for seed in seeds:  # seed by seed, so that a run cut short has every size
        for size in sizes:
            train = sample(task, train_frame, size, seed)
            for setting, (score, seconds) in one_run(task, train, test, warm._memory, steps, seed).items():
                row = Row(name, size, seed, setting, round(score, 2), round(seconds, 1))
                rows.append(row)
                print(json.dumps(asdict(row)), flush=True)
                if rows_file is not None:
                    with rows_file.open("a") as handle:
                        handle.write(json.dumps(asdict(row)) + "\n")
    return rows


# ---------------------------------------------------------------- table


def table(rows: list[Row]) -> str:
    """Mean test figure [range] and mean training seconds, per setting × data set × sample size."""
    frame_ = pd.DataFrame([asdict(row) for row in rows])
    lines = ["setting        data      labels  seeds   mean  [min – max]     train s"]
    groups = frame_.groupby(["data", "size", "setting"], sort=False)
    order = {setting: i for i, setting in enumerate(SETTINGS)}
    keys = sorted(groups.groups, key=lambda k: (list(TASKS).index(k[0]), k[1], order[k[2]]))
    for data, size, setting in keys:
        group = groups.get_group((data, size, setting))
        scores = group["score"]
        lines.append(
            f"{setting:14} {data:9} {size:6} {len(group):6} {scores.mean():6.1f}  "
            f"[{scores.min():5.1f} – {scores.max():5.1f}] {group['seconds'].mean():9.1f}"
        )
    return "\n".join(lines)


def read_rows(files: list[str]) -> list[Row]:
    """Rows saved by `--rows`."""
    return [Row(**json.loads(line)) for file in files for line in Path(file).read_text().splitlines() if line]


def numbers(value: str) -> list[int]:
    return [int(item) for item in value.split(",") if item.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="semeval,newsmtsc,gvfc", help="semeval,newsmtsc,gvfc")
    parser.add_argument("--sizes", type=numbers, default=[50, 100, 250])
    parser.add_argument("--seeds", type=numbers, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=16, help="SetFit batches of 16 pairs per fit")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (at most 2 on a shared machine)")
    parser.add_argument("--rows", type=Path, help="append each fit's figures to this file (JSON lines)")
    parser.add_argument("--table", nargs="+", help="only print the table from files written by --rows")
    args = parser.parse_args()
    if args.table:
        print(table(read_rows(args.table)))
        return
    try:
        import setfit  # noqa: F401
    except ImportError:
        sys.exit("this benchmark needs SetFit: pip install 'framestance[benchmarks]'")
    import torch

    torch.set_num_threads(min(args.threads, 2))
    quiet()
    start = time.perf_counter()
    rows = []
    for name in args.data.split(","):
        rows += run_task(name.strip(), args.sizes, args.seeds, args.steps, args.rows)
    print(f"\nSetFit: {args.steps} batches of {BATCH} pairs per fit; total time {time.perf_counter() - start:.0f} s\n")
    print(table(rows))


if __name__ == "__main__":
    main()
