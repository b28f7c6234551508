"""Hand-computed cases: tiny maps whose every number is derived in the comments.

All images here are small, so the boundary width is d = max(1, round(0.03 * diag)) = 1:
a pixel is interior iff it is not on the image edge and its 8 neighbours share its label.
"""

import math

import numpy as np
import pytest

from imagenets_hf.evaluation import Accumulator, boundary_band, boundary_width, image_statistics, per_class, score

IGN = 1000


def f_measure(recall, precision):
    return 1.3 * precision * recall / (0.3 * precision + recall + 1e-20)


def iou(hits, predicted, gt):
    return 100 * hits / (predicted + gt - hits + 1e-10)


# N = 2 (labels 0, 1, 2). Image A, 4 x 6: an object of class 1 with an ignore pixel inside,
# a void prediction (7 > N) on a valid pixel.
GT_A = np.array(
    [
        [0, 0, 0, 0, 0, 0],
        [0, 1, IGN, 1, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ]
)
PRED_A = np.array(
    [
        [0, 0, 0, 0, 0, 7],
        [0, 1, 1, 0, 0, 0],
        [0, 1, 1, 2, 2, 0],
        [0, 0, 0, 0, 0, 0],
    ]
)
# A: 23 valid pixels; class 1 has 5 -> ratio ceil(500 / 23) = 22 -> bucket MS.
# predicted 1 on valid: (1,1) (2,1) (2,2), all on gt 1; predicted 2: (2,3) on gt 1, (2,4) on gt 0;
# void 7: (0,5) on gt 0; predicted 0: 23 - 3 - 2 - 1 = 17, one of them ((1,3)) on gt 1.
# T_A = [17, 3, 2], P_A = [18, 5, 0], TP_A = [16, 3, 0]. With H = 4, every pixel of both
# maps touches a differing neighbour or the edge: all pixels are in both bands.

# Image B, 3 x 3: class 2 everywhere but one corner; predicted 2 everywhere.
GT_B = np.array([[2, 2, 2], [2, 2, 2], [2, 2, 0]])
PRED_B = np.full((3, 3), 2)
# B: 9 valid; class 2 has 8 -> ratio ceil(800 / 9) = 89 -> bucket L.
# T_B = [0, 0, 9], P_B = [1, 0, 8], TP_B = [0, 0, 8].
# Bands: gt centre sees the 0 corner -> all 9 in band; prediction centre is interior
# (8 equal neighbours): 8 predicted-band pixels, all label 2 on gt 2.

# Image C, 2 x 2: a tie in the image-level argmax (1 pixel of 1, 1 pixel of 2).
GT_C = np.array([[2, 2], [0, 0]])
PRED_C = np.array([[1, 2], [0, 0]])
# C: 4 valid; class 2 has 2 -> ratio ceil(200 / 4) = 50 -> bucket ML (<= 50).
# T_C = [2, 1, 1], P_C = [2, 0, 2], TP_C = [2, 0, 1]; all pixels in both bands.

IMAGES = [(PRED_A, GT_A), (PRED_B, GT_B), (PRED_C, GT_C)]


def accumulate(images, num_classes=2):
    accumulator = Accumulator(num_classes)
    for prediction, gt in images:
        accumulator.add(image_statistics(prediction, gt, num_classes))
    return accumulator


def test_every_key_without_matching():
    result = score(accumulate(IMAGES))
    assert list(result) == ["Acc", "mIoU", "mBIoU", "S", "MS", "ML", "L", "BS", "BMS", "BML", "BL", "FMeasure", "IoUs"]
    # T = [17+0+2, 3+0+1, 2+9+1] = [19, 4, 12]; P = [18+1+2, 5, 0+8+2] = [21, 5, 10];
    # TP = [16+0+2, 3, 0+8+1] = [18, 3, 9]
    ious = [iou(18, 19, 21), iou(3, 4, 5), iou(9, 12, 10)]  # 18/22, 3/6, 9/13
    assert result["IoUs"] == pytest.approx(ious, abs=1e-12)
    assert result["mIoU"] == pytest.approx(sum(ious) / 3, abs=1e-12)
    # Acc: A argmax over classes [3, 2] -> 1, present -> right; B [0, 9] -> 2 right;
    # C [1, 1] is a tie -> first class, 1, absent from C's gt -> wrong. 2 of 3.
    assert result["Acc"] == pytest.approx(200 / 3, abs=1e-12)
    # F: A t=5, q=3+2+1(void)=6, tp=3+1=4; B t=8 q=9 tp=8; C t=q=tp=2
    expected_f = (f_measure(4 / 5, 4 / 6) + f_measure(1, 8 / 9) + f_measure(1, 1)) / 3
    assert result["FMeasure"] == pytest.approx(100 * expected_f, abs=1e-12)
    # buckets: S empty -> NaN; MS = A: labels 0 (16/19) and 1 (3/5);
    # ML = C: labels 0 (2/2) and 2 (1/2); L = B: labels 0 (0/1) and 2 (8/9)
    assert math.isnan(result["S"]) and math.isnan(result["BS"])
    assert result["MS"] == pytest.approx((iou(16, 17, 18) + iou(3, 3, 5)) / 2, abs=1e-12)
    assert result["ML"] == pytest.approx((iou(2, 2, 2) + iou(1, 1, 2)) / 2, abs=1e-12)
    assert result["ML"] == pytest.approx(75, abs=1e-8)
    assert result["L"] == pytest.approx((0 + iou(8, 9, 8)) / 2, abs=1e-12)
    # boundary: as the pixel counts except B's interior prediction pixel (label 2 on gt 2):
    # BT = [19, 4, 11], BP = [21, 5, 10], BTP = [18, 3, 8]
    assert result["mBIoU"] == pytest.approx((iou(18, 19, 21) + iou(3, 4, 5) + iou(8, 11, 10)) / 3, abs=1e-12)
    assert result["BMS"] == pytest.approx(result["MS"], abs=1e-12)
    assert result["BML"] == pytest.approx(75, abs=1e-8)
    # BL = B: label 0: BT 0, BP 1 -> 0; label 2: BT 8, BP 8, BTP 7 -> 7/9
    assert result["BL"] == pytest.approx((0 + iou(7, 8, 8)) / 2, abs=1e-12)
    assert "match" not in result


def test_user_matching_maps_a_label_to_background():
    accumulator = accumulate(IMAGES)
    assert accumulator.void_pixels == 1 and accumulator.num_images == 3
    result = score(accumulator, {0: 0, 1: 1, 2: 0})  # 7 is not mapped: void, as before
    # predicted 2 becomes background: A T=[19, 3, 0] TP0 = 16 + 1 ((2,4) on gt 0);
    # B T=[9, 0, 0] TP0 = 1; C T=[3, 1, 0] TP0 = 2. T = [31, 4, 0], P = [21, 5, 10], TP = [20, 3, 0]
    assert result["IoUs"] == pytest.approx([iou(20, 31, 21), iou(3, 4, 5), 0.0], abs=1e-12)
    # Acc: A [3, 0] -> 1 right; B nothing predicted -> label 1 with no pixels -> wrong;
    # C [1, 0] -> 1, absent -> wrong
    assert result["Acc"] == pytest.approx(100 / 3, abs=1e-12)
    # F: A q = 3 + 1 void = 4, tp = 3, t = 5; B q = 0 -> f = 0; C q = 1, tp = 1, t = 2
    expected_f = (f_measure(3 / 5, 3 / 4) + 0 + f_measure(1 / 2, 1)) / 3
    assert result["FMeasure"] == pytest.approx(100 * expected_f, abs=1e-12)
    # band pixels relabel the same way: B's 8 band pixels become 0 -> BT = [30, 4, 0]; BTP0 = 17 + 1 + 2
    assert result["mBIoU"] == pytest.approx((iou(20, 30, 21) + iou(3, 4, 5) + 0) / 3, abs=1e-12)
    assert result["match"] == {"0": 0, "1": 1, "2": 0}


def test_per_class():
    table = per_class(accumulate(IMAGES))
    assert table["gt_pixels"].tolist() == [21, 5, 10]
    assert table["predicted_pixels"].tolist() == [19, 4, 12]
    assert table["IoU"].tolist() == pytest.approx([iou(18, 19, 21), iou(3, 4, 5), iou(9, 12, 10)])
    assert table["BIoU"].tolist() == pytest.approx([iou(18, 19, 21), iou(3, 4, 5), iou(8, 11, 10)])


def test_boundary_ring_at_image_edges():
    # 5 x 5, N = 1, gt all 1: band = the 16 edge pixels (windows reach outside), interior = inner 3 x 3.
    gt = np.ones((5, 5), dtype=int)
    prediction = gt.copy()
    prediction[2, 2] = 0  # its 3 x 3 neighbourhood joins the band: all 25 predicted pixels are band
    assert boundary_band(gt).sum() == 16 and boundary_band(prediction).all()
    result = score(accumulate([(prediction, gt)], num_classes=1))
    # pixels: T = [1, 24], P = [0, 25], TP = [0, 24] -> IoU = [0, 96]
    assert result["IoUs"] == pytest.approx([0.0, 96.0], abs=1e-8)
    # band: BT = [1, 24], BP = [0, 16] (ring), BTP = [0, 16] -> BIoU = [0, 16/24]
    assert result["mBIoU"] == pytest.approx((0 + 100 * 16 / 24) / 2, abs=1e-8)
    # class 1 covers 100 % -> L; only labels with gt pixels count: L = 96, BL = 66.67
    assert result["L"] == pytest.approx(96.0, abs=1e-8)
    assert result["BL"] == pytest.approx(100 * 16 / 24, abs=1e-8)
    assert all(math.isnan(result[key]) for key in ("S", "MS", "ML", "BS", "BMS", "BML"))
    assert result["Acc"] == 100.0
    assert result["FMeasure"] == pytest.approx(100 * f_measure(24 / 25, 1.0), abs=1e-12)


def test_boundary_width():
    assert boundary_width(375, 500) == 19  # 0.03 * 625 = 18.75
    assert boundary_width(30, 40) == 2  # 0.03 * 50 = 1.5 -> round half to even -> 2
    assert boundary_width(50, 120) == 4  # 0.03 * 130 = 3.9
    assert boundary_width(3, 3) == 1  # 0.13 -> 0 -> at least 1
    assert boundary_width(1, 1) == 1


def test_small_image_d1_band_by_hand():
    labels = np.array(
        [
            [5, 5, 5, 5, 5],
            [5, 5, 5, 5, 5],
            [5, 5, 5, 5, 5],
            [5, 5, 5, 9, 9],
        ]
    )
    # edge pixels are band; of the inner (1..2, 1..3) pixels, those next to a 9 are band:
    # (2,2) (2,3) touch (3,3); (1,1) (1,2) (1,3) (2,1) do not
    expected = np.ones((4, 5), dtype=bool)
    expected[1, 1:4] = False
    expected[2, 1] = False
    assert (boundary_band(labels) == expected).all()


def test_image_without_valid_pixels_counts_as_wrong_with_zero_f():
    gt = np.full((2, 3), IGN)
    result = score(accumulate([(np.ones((2, 3), dtype=int), gt)]))
    assert result["Acc"] == 0.0 and result["FMeasure"] == 0.0
    assert result["IoUs"] == [0.0, 0.0, 0.0]
    assert all(math.isnan(result[bucket]) for bucket in ("S", "MS", "ML", "L"))


def test_ratio_is_an_exact_integer_ceiling():
    # 1 pixel of class 1 in 20 valid pixels: 100 * 1 / 20 = 5 exactly -> S (<= 5), not MS
    gt = np.zeros((4, 5), dtype=int)
    gt[0, 0] = 1
    result = score(accumulate([(gt, gt)], num_classes=1))
    assert result["S"] == pytest.approx(100.0) and math.isnan(result["MS"])
    # 1 pixel in 19 valid: ceil(5.26) = 6 -> MS
    gt[3, 4] = IGN
    result = score(accumulate([(gt, gt)], num_classes=1))
    assert math.isnan(result["S"]) and result["MS"] == pytest.approx(100.0)


def test_statistics_errors_name_the_problem():
    with pytest.raises(ValueError, match="differ in size"):
        image_statistics(np.zeros((2, 3), int), np.zeros((3, 2), int), 2)
    with pytest.raises(ValueError, match=r"label\(s\) \[3\] outside 0..2"):
        image_statistics(np.zeros((2, 2), int), np.array([[0, 3], [1, IGN]]), 2)
    with pytest.raises(ValueError, match="integer labels"):
        image_statistics(np.zeros((2, 2), float), np.zeros((2, 2), int), 2)
    with pytest.raises(ValueError, match="outside 0..65535"):
        image_statistics(np.full((2, 2), -1), np.zeros((2, 2), int), 2)
    with pytest.raises(ValueError, match="cannot be added"):
        Accumulator(3).add(image_statistics(np.zeros((2, 2), int), np.zeros((2, 2), int), 2))


def test_statistics_round_trip_through_plain_ints():
    statistics = image_statistics(PRED_A, GT_A, 2)
    data = statistics.to_dict()
    assert all(type(value) is int for value in data["pairs"])
    assert type(statistics).from_dict(data) == statistics
    assert statistics.void_pixels == 1 and statistics.valid_pixels == 23
