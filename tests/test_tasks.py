"""Tasks: the same data keys everywhere, stable ids, offsets into the cleaned article, neighbours as context."""

from __future__ import annotations

from annotation.articles import Article
from annotation.codebook import load_codebook, shipped_codebooks
from annotation.tasks import DATA_KEYS, build_tasks, passage_hash

PARAGRAPHS = [
    "First paragraph " + "with enough words to stand alone as a passage " * 4 + "end.",
    "Second paragraph " + "that says something else entirely about the same event " * 4 + "end.",
    "Third paragraph " + "closing the article with a final thought on the matter " * 4 + "end.",
]
ARTICLE = Article(
    id="courier-7",
    text="\n\n".join(PARAGRAPHS),
    title="A title",
    source="The Courier",
    url="https://courier.example/7",
    date="2020-01-04",
    file="in.jsonl",
    row=3,
)


def test_task_data_keys_and_values():
    tasks = build_tasks([ARTICLE])
    assert [list(t) for t in tasks] == [["data"]] * 3
    first, middle, last = (t["data"] for t in tasks)
    assert all(list(t["data"]) == list(DATA_KEYS) for t in tasks)
    assert middle["text"] == PARAGRAPHS[1]
    assert (middle["title"], middle["source"], middle["url"], middle["date"]) == (
        "A title",
        "The Courier",
        "https://courier.example/7",
        "2020-01-04",
    )
    assert middle["source_line"] == "The Courier · 2020-01-04"
    assert (middle["article_id"], middle["passage_id"], middle["position"]) == ("courier-7", "courier-7:01", 1)
    assert ARTICLE.text[middle["start"] : middle["end"]] == middle["text"]
    assert (middle["context_before"], middle["context_after"]) == (PARAGRAPHS[0], PARAGRAPHS[2])
    assert first["context_before"] == "" and last["context_after"] == ""
    assert (middle["file"], middle["row"]) == ("in.jsonl", 3)
    assert middle["passage_hash"] == passage_hash(PARAGRAPHS[1]) and len(middle["passage_hash"]) == 16


def test_ids_are_stable_and_hashes_follow_the_text():
    again = build_tasks([ARTICLE])
    assert build_tasks([ARTICLE]) == again
    edited = Article(**{**ARTICLE.__dict__, "text": ARTICLE.text.replace("Second", "2nd")})
    changed = build_tasks([edited])
    assert [t["data"]["passage_id"] for t in changed] == [t["data"]["passage_id"] for t in again]
    hashes = [(a["data"]["passage_hash"] == b["data"]["passage_hash"]) for a, b in zip(again, changed, strict=True)]
    assert hashes == [True, False, True]


def test_codebook_tag():
    codebook = load_codebook(shipped_codebooks()["soleimani_2020"])
    tasks = build_tasks([ARTICLE], codebook)
    assert all(t["data"]["codebook"] == "soleimani_2020@1.1" for t in tasks)
    assert list(tasks[0]["data"]) == [*DATA_KEYS, "codebook"]
