from humanverse.models.box_overlap import iou_one_to_many


def test_iou_of_one_box_against_many():
    iou = iou_one_to_many([0, 0, 10, 10], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [3, 3, 3, 9]])
    assert iou.tolist() == [1.0, 50 / 150, 0.0, 0.0]
