"""The hands stage's scores reach the sidecar as typed columns (null where the stage had no keypoints) and
the json next to the persons' hands."""

import numpy as np
import pyarrow as pa

from humanverse.core.sample import Sample
from humanverse.shards.records import sample_json, sidecar_row, sidecar_table
from humanverse.stages.hands import HandsConfig, HandsStage


def test_hand_columns_are_typed_and_null_without_keypoints():
    kp = np.zeros((133, 3))
    kp[91:112] = [100.0, 100.0, 0.9]
    kp[91:112, 0] += np.arange(21) * 4
    with_hands = Sample(key="000000000", task_id="t", source={})
    with_hands.width, with_hands.height = 400, 300
    with_hands.persons = [{"box": [0, 0, 400, 300], "keypoints": kp.tolist()}]
    without = Sample(key="000000001", task_id="t", source={})
    HandsStage(HandsConfig()).process([with_hands, without])
    table = sidecar_table([sidecar_row(s, []) for s in (with_hands, without)], [{}, {}])
    assert table.schema.field("n_hands_visible").type == pa.int32()
    assert table.schema.field("hand_quality_ok").type == pa.bool_()
    assert table.column("n_hands_visible").to_pylist() == [1, None]
    assert table.column("hand_quality_ok").to_pylist() == [False, None]
    doc = sample_json(with_hands)
    assert doc["n_hands_visible"] == 1 and doc["persons"][0]["hands"][0]["side"] == "left"
