"""Model files: saved with skops, never pickle; loading checks every type in the file and the codebook."""

from __future__ import annotations

import zipfile
from pathlib import Path

from annotation.bounded_yaml import shown
from annotation.codebook import Codebook
from models.training import MODEL_FORMAT, Model, codebook_hash

FORMAT = MODEL_FORMAT
OLDER_FORMATS = ("framestance-model/1",)
# Our own classes a model file may hold besides what skops trusts by default (scikit-learn, numpy, scipy).
OWN_TYPES = (
    "models.estimators.StanceClassifier",
    "models.estimators.FrameClassifier",
    "models.embeddings.SentenceEmbeddings",
)
# Types skops does not trust by default but that a fitted text model is made of.
LIBRARY_TYPES = ("builtins.slice",)
# What a model file's zip directory may declare, far above any model framestance trains (the demo model: a
# few hundred members, a few megabytes unpacked, none packed more than a few times): more is refused unread.
MAX_MEMBERS = 10_000
MAX_UNPACKED_BYTES = 1 << 30
MAX_RATIO = 200
RATIO_FROM_BYTES = 1 << 20


class ModelFileError(ValueError):
    """A model file that is not one of ours, was changed, or answers another codebook."""


def save_model(model: Model, path: str | Path) -> Path:
    """Write a model file (skops)."""
    import skops.io

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": FORMAT,
        "card": model.card,
        "codebook": model.codebook_text,
        "stance": model.stance,
        "frames": model.frames,
        "primary": model.primary,
    }
    skops.io.dump(state, path)
    return path


def load_model(path: str | Path, codebook: Codebook | None = None) -> Model:
    """Read a model file, refusing one with unexpected types, a changed codebook, or another codebook than given."""
    import skops.io

    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a framestance model file (expected a skops file)")
    _check_sizes(path)
    try:
        found = skops.io.get_untrusted_types(file=path)
    except Exception as err:  # skops raises several types for a damaged archive
        raise ModelFileError(f"{path}: not a readable model file ({err})") from None
    foreign = sorted(set(found) - set(OWN_TYPES) - set(LIBRARY_TYPES))
    if foreign:
        raise ModelFileError(
            f"{path}: refused: the file holds types a framestance model never has: {', '.join(foreign)}"
        )
    try:
        state = skops.io.load(path, trusted=found)
    except Exception as err:
        raise ModelFileError(f"{path}: not a readable model file ({err})") from None
    if isinstance(state, dict) and state.get("format") in OLDER_FORMATS:
        raise ModelFileError(f"{path}: refused: written by an older framestance ({state['format']}); train it again")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a framestance model file (format {_format_of(state)!r})")
    card, text = state.get("card") or {}, state.get("codebook") or ""
    if card.get("codebook", {}).get("sha256") != codebook_hash(text):
        raise ModelFileError(f"{path}: refused: the codebook inside does not match the hash in its card (changed?)")
    model = Model(text, card, state.get("stance"), state.get("frames"), state.get("primary"))
    if codebook is not None:
        ref = card["codebook"]["ref"]
        if codebook != model.codebook:
            raise ModelFileError(
                f"{path}: refused: the model was trained for codebook {ref}, not {codebook.ref} as given "
                "(or the same name and version with other labels); train it again on this codebook"
            )
    return model


def _check_sizes(path: Path) -> None:
    """Refuse a file whose zip directory declares more members, more unpacked bytes or more packing than a model
    has, before any member is read (Python's zipfile never unpacks more than a member's declared size)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise ModelFileError(f"{path}: not a readable model file ({err})") from None
    if len(members) > MAX_MEMBERS:
        raise ModelFileError(f"{path}: refused: {len(members):,} members; a model file has at most {MAX_MEMBERS:,}")
    total = 0
    for member in members:
        name = shown(member.filename)
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
            raise ModelFileError(
                f"{path}: refused: member {name} unpacks {member.compress_size:,} bytes to {member.file_size:,} "
                f"({ratio:,.0f} times); a model's members unpack to at most {MAX_RATIO} times their size"
            )
        total += member.file_size
        if total > MAX_UNPACKED_BYTES:
            raise ModelFileError(
                f"{path}: refused: its members unpack to more than {MAX_UNPACKED_BYTES:,} bytes "
                f"(reached at member {name}, {member.file_size:,} bytes)"
            )


def _format_of(state) -> str:
    return state.get("format", "none") if isinstance(state, dict) else type(state).__name__
