"""Reading articles: every format, and bad input reported with file and row while the rest goes through."""

from __future__ import annotations

import json

from annotation.articles import read_articles

BODY = (
    "The council voted on Tuesday to close the branch libraries an hour earlier, citing a budget gap. "
    "Residents who use the reading rooms in the evening said they had not been consulted."
)


def test_jsonl_collection_with_metadata(tmp_path):
    path = tmp_path / "wire.jsonl"
    rows = [
        {
            "id": "w1",
            "title": "Libraries",
            "source": "Wire",
            "url": "https://w.example/1",
            "date": "2024-01-02",
            "text": BODY,
        },
        {"text": BODY + " Second article."},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    articles, skipped = read_articles([path])
    assert skipped == []
    first, second = articles
    assert (first.id, first.title, first.source, first.url, first.date) == (
        "w1",
        "Libraries",
        "Wire",
        "https://w.example/1",
        "2024-01-02",
    )
    assert first.text == BODY and first.file == str(path) and first.row == 1
    assert second.id == "wire-2" and second.row == 2


def test_csv_collection_with_html_column(tmp_path):
    path = tmp_path / "pages.csv"
    html = (
        "<html><head><title>Late hours</title></head>"
        f"<body><article><h1>Late hours</h1><p>{BODY}</p></article></body></html>"
    )
    path.write_text(
        'id,html,source\r\nc1,"' + html.replace('"', '""') + '",Courier\r\nc2,,Courier\r\n', encoding="utf-8"
    )
    articles, skipped = read_articles([path])
    (article,) = articles
    assert article.id == "c1" and article.source == "Courier" and article.row == 2
    assert BODY in article.text
    assert [(s.file, s.row) for s in skipped] == [(str(path), 3)]
    assert "'text' and 'html' fields are both empty" in skipped[0].reason


def test_bad_inputs_are_reported_and_the_rest_goes_through(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(f"Home\nWorld\n\nA headline about the libraries\n\n{BODY}\n\n© 2024 Courier\n", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(("Caf\xe9 " + BODY).encode("latin-1"))
    no_column = tmp_path / "table.csv"
    no_column.write_text("id,body\n1,hello\n", encoding="utf-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({"id": "ok", "text": BODY}) + "\n{not json\n[1, 2]\n", encoding="utf-8")
    menu_only = tmp_path / "menu.txt"
    menu_only.write_text("Home\nNews\nSport\nWeather\n\nSign in\n", encoding="utf-8")
    odd = tmp_path / "notes.docx"
    odd.write_bytes(b"PK\x03\x04")
    missing = tmp_path / "missing.txt"

    paths = [good, empty, binary, latin, no_column, broken, menu_only, odd, missing]
    articles, skipped = read_articles(paths)
    assert [a.id for a in articles] == ["good", "ok"]
    assert articles[0].title == "A headline about the libraries" and articles[0].text == BODY
    reasons = {(s.file.rsplit("/", 1)[-1], s.row): s.reason for s in skipped}
    assert reasons == {
        ("empty.txt", None): "empty file",
        ("photo.txt", None): "binary file, not text",
        ("latin.txt", None): reasons[("latin.txt", None)],
        ("table.csv", None): "no 'text' or 'html' column (columns: id, body)",
        ("broken.jsonl", 2): reasons[("broken.jsonl", 2)],
        ("broken.jsonl", 3): "not a JSON object",
        ("menu.txt", None): "no article body left after cleaning",
        ("notes.docx", None): reasons[("notes.docx", None)],
        ("missing.txt", None): "no such file",
    }
    assert reasons[("latin.txt", None)].startswith("not UTF-8 text: byte 0xe9 at offset 3")
    assert reasons[("broken.jsonl", 2)].startswith("not valid JSON")
    assert reasons[("notes.docx", None)].startswith("unsupported file type .docx")
    assert str(skipped[-1]) == f"{missing}: no such file"
    assert str(next(s for s in skipped if s.row == 3)) == f"{broken}, row 3: not a JSON object"


def test_duplicate_article_ids_are_skipped_with_the_first_place(tmp_path):
    one, two = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    one.write_text(json.dumps({"id": "x", "text": BODY}) + "\n", encoding="utf-8")
    two.write_text(json.dumps({"id": "x", "text": BODY}) + "\n", encoding="utf-8")
    articles, skipped = read_articles([one, two])
    assert len(articles) == 1
    assert skipped[0].reason == f"duplicate article id 'x' (first in {one}, row 1)"


def test_utf8_with_bom_and_windows_line_ends(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(("\ufeffMenu\r\n\r\n" + BODY + "\r\n").encode("utf-8"))
    (article,), skipped = read_articles([path])
    assert article.text == BODY and skipped == []


def test_a_folder_stands_for_the_article_files_in_it(tmp_path):
    folder = tmp_path / "articles"
    (folder / "nested").mkdir(parents=True)
    (folder / "b.txt").write_text("Second Title\n\n" + "Words of the second article. " * 10, encoding="utf-8")
    (folder / "a.txt").write_text("First Title\n\n" + "Words of the first article. " * 10, encoding="utf-8")
    (folder / "notes.md").write_text("not an article", encoding="utf-8")
    (folder / "nested" / "c.txt").write_text("Nested\n\nnot read", encoding="utf-8")
    articles, skipped = read_articles([folder])
    assert [a.id for a in articles] == ["a", "b"] and skipped == []
    assert "first article" in articles[0].text and "second article" in articles[1].text


def test_a_text_that_is_not_a_string_is_skipped_with_its_type(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": "n", "text": 42}\n{"id": "ok", "text": "' + "A sentence of words. " * 10 + '"}\n')
    articles, skipped = read_articles([path])
    assert [a.id for a in articles] == ["ok"]
    assert [str(s) for s in skipped] == [f"{path}, row 1: 'text' is a int, not a string"]
