"""A published worked example, fed as a Label Studio export through the project's own reader and agreement."""

from __future__ import annotations

import export_factory as ls
import pytest

from annotation.agreement import agreement
from annotation.convert import read_export

# Krippendorff's nominal reliability example: 4 coders, 12 units, None where a coder gave no value.
# Published alpha (nominal): 0.743.
CODES = {
    1: [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    2: [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    3: [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    4: [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}
CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="code" toName="text" choice="single">
    <Choice value="1"/><Choice value="2"/><Choice value="3"/><Choice value="4"/><Choice value="5"/>
  </Choices>
</View>"""


def test_krippendorff_worked_example_through_an_export(tmp_path):
    tasks, ann_id = [], 0
    for unit in range(12):
        annotations = []
        for coder, values in CODES.items():
            if values[unit] is not None:
                ann_id += 1
                annotations.append(ls.annotation(ann_id, coder, [ls.choices("code", [str(values[unit])])]))
        tasks.append(ls.task(unit + 1, {"text": f"unit {unit + 1}", "passage_id": f"u:{unit:02d}"}, annotations))
    path = ls.write_export(tmp_path / "krippendorff.json", tasks)
    for kwargs in ({"config": CONFIG}, {}):
        tables = read_export(path, **kwargs)
        row = agreement(tables).set_index("question").loc["code"]
        assert row["alpha"] == pytest.approx(0.7434, abs=1e-3)
        assert row["items"] == 11  # units with two or more coders (the last has one)
        assert row["annotators"] == 4
