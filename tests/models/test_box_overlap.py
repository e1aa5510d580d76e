from humanverse.models.box_overlap import box_iou, iou_one_to_many


def test_iou_of_one_box_against_many():
    iou = iou_one_to_many([0, 0, 10, 10], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [3, 3, 3, 9]])
    assert iou.tolist() == [1.0, 50 / 150, 0.0, 0.0]


def test_iou_matrix_rows_are_one_to_many():
    a = [[0, 0, 10, 10], [5, 0, 15, 10]]
    b = [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]
    m = box_iou(a, b)
    assert m.shape == (2, 3)
    assert [m[i].tolist() for i in range(2)] == [iou_one_to_many(a[i], b).tolist() for i in range(2)]
    assert m[1].tolist() == [50 / 150, 1.0, 0.0]
