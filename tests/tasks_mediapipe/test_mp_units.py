"""Hand-checked pieces of the MediaPipe-style tasks: anchors, decoding, NMS, ROI, warp."""
import math

import numpy as np
import pytest

from edgelite.tasks.mediapipe.anchors import SsdAnchorsOptions, generate_anchors
from edgelite.tasks.mediapipe.common import DETECTORS
from edgelite.tasks.mediapipe.detection_decoding import (DetectionDecodingOptions, RawDetection,
                                                         decode_detections)
from edgelite.tasks.mediapipe.face import refine_attention_landmarks
from edgelite.tasks.mediapipe.nms import intersection_over_union, non_max_suppression
from edgelite.tasks.mediapipe.pose import refine_from_heatmap
from edgelite.tasks.mediapipe.roi import (NormalizedRect, RoiOptions, detection_to_roi,
                                          normalize_radians, transform_rect)
from edgelite.tasks.mediapipe.warp import crop_to_tensor, mask_to_image, resize_bilinear


@pytest.mark.parametrize("key", sorted(DETECTORS))
def test_anchor_counts_match_the_models(key):
    size, count = key
    anchors = generate_anchors(DETECTORS[key].anchors)
    assert anchors.shape == (count, 4)
    assert np.all(anchors[:, 2:] == 1.0)  # fixed_anchor_size
    assert anchors[:, :2].min() > 0 and anchors[:, :2].max() < 1


def test_anchor_layout_short_range_face():
    anchors = generate_anchors(SsdAnchorsOptions(128, 128, (8, 16, 16, 16)))
    # stride 8: 16x16 cells, 2 anchors each (aspect 1 + interpolated); then 8x8 cells x 6
    assert np.allclose(anchors[0], [0.5 / 16, 0.5 / 16, 1, 1])
    assert np.allclose(anchors[1], anchors[0])
    assert np.allclose(anchors[2], [1.5 / 16, 0.5 / 16, 1, 1])
    assert np.allclose(anchors[512], [0.5 / 8, 0.5 / 8, 1, 1])
    assert np.allclose(anchors[512:518], anchors[512])
    assert np.allclose(anchors[-1], [7.5 / 8, 7.5 / 8, 1, 1])


def test_anchor_sizes_without_fixed_size():
    anchors = generate_anchors(SsdAnchorsOptions(64, 64, (32, 64), min_scale=0.2, max_scale=0.8,
                                                 aspect_ratios=(1.0, 4.0),
                                                 interpolated_scale_aspect_ratio=0.0,
                                                 fixed_anchor_size=False))
    # layer 0 scale 0.2: (w, h) = (0.2, 0.2) and (0.4, 0.1); layer 1 scale 0.8
    assert anchors.shape == (2 * 2 * 2 + 1 * 2, 4)
    assert np.allclose(anchors[0, 2:], [0.2, 0.2]) and np.allclose(anchors[1, 2:], [0.4, 0.1])
    assert np.allclose(anchors[-1], [0.5, 0.5, 1.6, 0.4])


def _options(**kw):
    base = dict(num_boxes=2, num_coords=6, num_keypoints=1, x_scale=100, y_scale=100,
                w_scale=100, h_scale=100, min_score_thresh=0.5)
    base.update(kw)
    return DetectionDecodingOptions(**base)


def test_decoding_boxes_keypoints_and_scores():
    anchors = np.array([[0.5, 0.5, 1, 1], [0.25, 0.75, 1, 1]], np.float32)
    raw = np.array([[10, -20, 40, 20, 5, 5], [0, 0, 10, 10, 0, 0]], np.float32)
    scores = np.array([2.0, -3.0], np.float32)  # sigmoid 0.881 kept, 0.047 dropped
    (det,) = decode_detections(raw[None], scores[None, :, None], anchors, _options())
    assert det.score == pytest.approx(1 / (1 + math.exp(-2)), rel=1e-6)
    # center (0.6, 0.3), size (0.4, 0.2)
    assert np.allclose(det.box, [0.4, 0.2, 0.8, 0.4], atol=1e-6)
    assert np.allclose(det.keypoints, [[0.55, 0.55]], atol=1e-6)


def test_decoding_clips_logits_and_drops_negative_boxes():
    anchors = np.array([[0.5, 0.5, 1, 1], [0.5, 0.5, 1, 1]], np.float32)
    raw = np.array([[0, 0, 10, 10, 0, 0], [0, 0, -10, 10, 0, 0]], np.float32)
    scores = np.array([1e30, 1e30], np.float32)
    dets = decode_detections(raw, scores, anchors, _options(score_clipping_thresh=1.0,
                                                            min_score_thresh=0.8))
    assert len(dets) == 0  # sigmoid(1) = 0.731 < 0.8
    dets = decode_detections(raw, scores, anchors, _options(min_score_thresh=0.7,
                                                            score_clipping_thresh=1.0))
    assert len(dets) == 1 and dets[0].score == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-6)
    with pytest.raises(ValueError, match="3 boxes"):
        decode_detections(np.zeros((3, 6)), np.zeros(3), anchors, _options())


def _det(score, box, kp=(0.0, 0.0)):
    return RawDetection(score, np.array(box, np.float32), np.array([kp], np.float32))


def test_weighted_nms_averages_the_overlapping_group():
    dets = [_det(0.6, [0.1, 0.1, 0.5, 0.5], (0.2, 0.2)),
            _det(0.9, [0.0, 0.0, 0.4, 0.4], (0.1, 0.1)),
            _det(0.8, [0.6, 0.6, 0.9, 0.9], (0.7, 0.7))]
    assert intersection_over_union(dets[0].box, dets[1].box) == pytest.approx(0.09 / 0.23)
    kept = non_max_suppression(dets, 0.3)
    assert [k.score for k in kept] == pytest.approx([0.9, 0.8])
    expected = (0.9 * np.array([0, 0, 0.4, 0.4]) + 0.6 * np.array([0.1, 0.1, 0.5, 0.5])) / 1.5
    assert np.allclose(kept[0].box, expected, atol=1e-6)
    assert np.allclose(kept[0].keypoints, [[0.14, 0.14]], atol=1e-6)
    assert np.allclose(kept[1].box, dets[2].box)
    plain = non_max_suppression(dets, 0.3, weighted=False)
    assert np.allclose(plain[0].box, dets[1].box)
    assert len(non_max_suppression(dets, 0.3, max_num_detections=1)) == 1
    assert len(non_max_suppression(dets, 0.5)) == 3  # IoU 0.39 is below 0.5


def test_roi_rotation_and_transform():
    assert normalize_radians(3 * math.pi / 2) == pytest.approx(-math.pi / 2)
    assert normalize_radians(-math.pi) == pytest.approx(-math.pi)
    # eyes level: no rotation; the box center, 1.5x, square on the long side (in pixels)
    keypoints = np.array([[0.4, 0.5], [0.6, 0.5]], np.float32)
    roi = detection_to_roi(np.array([0.3, 0.4, 0.7, 0.6]), keypoints,
                           RoiOptions(0, 1, 0.0, 1.5, 1.5), image_width=200, image_height=100)
    assert (roi.x_center, roi.y_center, roi.rotation) == pytest.approx((0.5, 0.5, 0.0))
    assert (roi.width, roi.height) == pytest.approx((0.6, 1.2))  # 80 px square * 1.5
    # the right eye above the left one: the face leans, rotation brings it level
    keypoints = np.array([[0.4, 0.6], [0.6, 0.4]], np.float32)
    roi = detection_to_roi(np.array([0.3, 0.3, 0.7, 0.7]), keypoints,
                           RoiOptions(0, 1, 0.0, 1.0, 1.0), 100, 100)
    assert roi.rotation == pytest.approx(-math.pi / 4)
    # shift along the rotated axis: rotation 90 degrees moves a y-shift to -x
    moved = transform_rect(NormalizedRect(0.5, 0.5, 0.2, 0.2, math.pi / 2), 100, 100, 1.0, 1.0,
                           shift_y=-0.5)
    assert (moved.x_center, moved.y_center) == pytest.approx((0.6, 0.5))


def test_alignment_points_roi():
    keypoints = np.array([[0.5, 0.5], [0.5, 0.3]], np.float32)  # scale point straight up
    roi = detection_to_roi(np.zeros(4), keypoints, RoiOptions(0, 1, 90.0, 1.25, 1.25,
                                                              alignment_points=True), 100, 100)
    assert (roi.x_center, roi.y_center, roi.rotation) == pytest.approx((0.5, 0.5, 0.0), abs=1e-6)
    assert roi.width == pytest.approx(0.5)  # 2 * 20 px * 1.25


def test_crop_identity_rotation_and_letterbox():
    image = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    crop = crop_to_tensor(image, None, 8, 8, keep_aspect_ratio=False, value_range=(0.0, 255.0))
    assert np.array_equal(crop.tensor[0], image.astype(np.float32))
    # a half-turn of the whole image: tensor pixel u samples image pixel 8 - u (zero past it)
    rect = NormalizedRect(0.5, 0.5, 1.0, 1.0, math.pi)
    crop = crop_to_tensor(image, rect, 8, 8, False, (0.0, 255.0))
    assert np.array_equal(crop.tensor[0, 1:, 1:], image[::-1, ::-1][:7, :7].astype(np.float32))
    assert np.all(crop.tensor[0, 0] == 0)
    # letterbox a 4x8 (h x w) image into 8x8: 2 rows of border (value range min) on each side
    wide = np.full((4, 8, 3), 255, np.uint8)
    crop = crop_to_tensor(wide, None, 8, 8, True, (-1.0, 1.0))
    assert np.all(crop.tensor[0, :2] == -1.0) and np.all(crop.tensor[0, 2:6] == 1.0)
    assert np.allclose(crop.to_image(np.array([[0.5, 0.25], [0.0, 0.75]])),
                       [[0.5, 0.0], [0.0, 1.0]])


def test_projection_and_mask_round_trip():
    image = np.zeros((40, 60, 3), np.uint8)
    rect = NormalizedRect(0.5, 0.5, 0.5, 0.5 * 60 / 40, math.pi / 6)
    crop = crop_to_tensor(image, rect, 16, 16, True, (0.0, 1.0))
    center = crop.to_image(np.array([[0.5, 0.5]]))
    assert np.allclose(center, [[0.5, 0.5]])
    mask = np.ones((16, 16), np.float32)
    back = mask_to_image(mask, crop)
    assert back.shape == (40, 60) and back[20, 30] == 1.0 and back[0, 0] == 0.0
    assert np.allclose(resize_bilinear(np.array([[0.0, 1.0]]), 1, 4), [[0, 0.25, 0.75, 1]])


def test_attention_refinement_and_heatmap():
    mesh = np.zeros((468, 3), np.float32)
    mesh[:, 2] = np.arange(468)
    parts = [mesh, np.ones((80, 2)), np.full((71, 2), 2.0), np.full((71, 2), 3.0),
             np.full((5, 2), 4.0), np.full((5, 2), 5.0)]
    merged = refine_attention_landmarks(parts)
    assert merged.shape == (478, 3)
    assert np.allclose(merged[61], [1, 1, 61]) and np.allclose(merged[33], [2, 2, 33])
    assert np.allclose(merged[468, :2], [4, 4])
    left_contour = [33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173]
    assert merged[470, 2] == pytest.approx(np.mean(left_contour))
    heatmap = np.full((1, 8, 8, 1), -20.0, np.float32)
    heatmap[0, 2, 3, 0] = heatmap[0, 2, 5, 0] = 20.0  # two confident cells
    refined = refine_from_heatmap(np.array([[0.5, 0.3, 0, 1, 1]], np.float32), heatmap, 7)
    assert refined[0, :2] == pytest.approx([4 / 8, 2 / 8], abs=1e-6)
    weak = np.full((1, 8, 8, 1), -1.0, np.float32)  # max sigmoid 0.27 < 0.5: unchanged
    assert refine_from_heatmap(np.array([[0.5, 0.3, 0, 1, 1]], np.float32), weak)[0, 0] == 0.5
