"""MediaPipe Hands (palm detector + 21-point hand landmarks, in the mediapipe 0.10.21 wheel, Apache-2.0) on an
upscaled region: a second look at hands that the whole-body model sees too small.

Holistic finds hands from the body's wrists at the person crop's scale, so a hand of 40-60 px in the photo is
a few dozen pixels in its input; the hand model here gets the region around the hand resized to `upscale_to`.
Each hand the palm detector leads to is then read again by the landmark model on MediaPipe's tracking region
cut around its own points (hand_landmarks.py; `refine_passes`), and `search` looks for hands with the landmark
model alone where the palm detector found none.
MediaPipe's handedness label assumes a mirrored (selfie) image: on ordinary photos its "Left" is the person's
right hand, so the label is swapped here (checked on the kit's hands with a known side, tests/models).
"""

from __future__ import annotations

import cv2
import numpy as np

SWAPPED_SIDE = {"Left": "right", "Right": "left"}
FILES = ("modules/palm_detection/palm_detection_full.tflite", "modules/hand_landmark/hand_landmark_full.tflite")


def wheel_files():
    """The palm detector and hand landmark model inside the installed mediapipe wheel (model_complexity=1)."""
    from humanverse.models.files import locate

    root = locate("wheel:mediapipe", list(FILES))
    return [root / f for f in FILES]


class MediaPipeHands:
    """(uint8 RGB image, xyxy region) -> hands found there: dicts with side, score (the landmark model's hand
    presence, or the handedness score when refine_passes is 0), keypoints (21 x 3 image px)."""

    def __init__(self, upscale_to: int = 512, max_hands: int = 2, min_detection_confidence: float = 0.5,
                 refine_passes: int = 1, files: list | None = None):
        import mediapipe as mp

        from humanverse.models.pose.hand_landmarks import HandLandmarks

        self._model = mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=max_hands, model_complexity=1,
                                               min_detection_confidence=min_detection_confidence)
        self.landmarks = HandLandmarks((files or wheel_files())[1])
        self.upscale_to, self.refine_passes, self.max_hands = upscale_to, refine_passes, max_hands

    def __call__(self, rgb: np.ndarray, region: list[float]) -> list[dict]:
        h, w = rgb.shape[:2]
        x0, y0 = max(0, int(region[0])), max(0, int(region[1]))
        x1, y1 = min(w, int(np.ceil(region[2]))), min(h, int(np.ceil(region[3])))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return []
        crop = rgb[y0:y1, x0:x1]
        scale = max(1.0, self.upscale_to / max(crop.shape[:2]))
        if scale > 1:
            crop = cv2.resize(crop, (round(crop.shape[1] * scale), round(crop.shape[0] * scale)),
                              interpolation=cv2.INTER_CUBIC)
        res = self._model.process(np.ascontiguousarray(crop))
        out = []
        for lms, hand in zip(res.multi_hand_landmarks or [], res.multi_handedness or []):
            label = hand.classification[0]
            pts = np.array([[p.x * crop.shape[1] / scale + x0, p.y * crop.shape[0] / scale + y0] for p in lms.landmark])
            hand = {"points": pts, "side": SWAPPED_SIDE[label.label], "presence": float(label.score)}
            if self.refine_passes:
                hand = self.landmarks.refine(rgb, pts, self.refine_passes) or hand
            out.append(_hand(hand))
        return out

    def reread(self, rgb: np.ndarray, hand: dict, min_presence: float = 0.5) -> dict | None:
        """Another model's hand (side, keypoints 21 x 3) read again by the landmark model on its tracking
        region, keeping its side (the pose model's comes from the body's wrist); None when the landmark model
        sees no hand there (presence < min_presence, MediaPipe's tracking threshold)."""
        found = self.landmarks.refine(rgb, np.asarray(hand["keypoints"], dtype=np.float64)[:, :2], self.refine_passes)
        if found is None or found["presence"] < min_presence:
            return None
        return _hand({**found, "side": hand["side"]})

    def search(self, rgb: np.ndarray, region: list[float]) -> list[dict]:
        """Hands in `region` found by the landmark model alone (hand_landmarks.HandLandmarks.search): where
        the palm detector found nothing."""
        return [_hand(h) for h in self.landmarks.search(rgb, region, max_hands=self.max_hands)]

    def close(self) -> None:
        self._model.close()


def _hand(found: dict) -> dict:
    """The stage's form: side, score (the hand's presence), keypoints 21 x [x, y, score]."""
    score = float(found["presence"])
    return {"side": found["side"], "score": score,
            "keypoints": np.concatenate([found["points"], np.full((21, 1), score)], axis=1)}


def regions_for_person(person: dict, width: int, height: int, margin: float = 2.0) -> list[list[float]]:
    """Where to look again: around each hand the person already has (its box grown `margin` x), else around
    each wrist (a square of 0.4 x the person box's long side); the whole person box when it has no hand."""
    out = [] if person.get("hands") else [list(map(float, person["box"]))]
    sides = {h["side"] for h in person.get("hands", [])}
    for hand in person.get("hands", []):
        x0, y0, x1, y1 = hand["box"]
        cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, margin * max(x1 - x0, y1 - y0) / 2
        out.append([cx - half, cy - half, cx + half, cy + half])
    kp = np.asarray(person.get("keypoints") or np.zeros((133, 3)), dtype=np.float64).reshape(-1, 3)
    bx0, by0, bx1, by1 = person["box"]
    half = 0.2 * max(bx1 - bx0, by1 - by0)
    for side, wrist in (("left", 9), ("right", 10)):
        if side not in sides and kp[wrist, 2] > 0:
            out.append([kp[wrist, 0] - half, kp[wrist, 1] - half, kp[wrist, 0] + half, kp[wrist, 1] + half])
    return [[max(0.0, r[0]), max(0.0, r[1]), min(float(width), r[2]), min(float(height), r[3])] for r in out]


MIN_SEARCH_BOX_PX = 128.0
"""The search reads squares of 0.4-0.6 x the box's long side, in which a hand fills about half: in a smaller
box every hand it could find is under ~40 px, below the hand-quality rule's 64 px square."""
MIN_SEARCH_AREA_FRAC = 0.5
"""Only a person box covering at least half the picture (a close-up) is searched: there a hand is large
enough for the search's squares; in wider shots the palm detector's look at the box and each wrist stands."""


def search_wanted(person: dict, width: int, height: int, min_score: float = 0.5) -> bool:
    """Whether the landmark-model search should look in this person's box: a close-up (MIN_SEARCH_AREA_FRAC,
    MIN_SEARCH_BOX_PX) with no hand and no face point in its keypoints (COCO-WholeBody 23-90, which MediaPipe's
    face mesh gives only where it found a face). A box with a face is body-scale: its hands are about a face's
    size, under the squares the search reads. What is left is mostly hand or hand/torso crops, where the
    search pays (bench/HANDS.md; docs/hands.md gives its cost)."""
    from humanverse.models.pose.mediapipe_wholebody_map import FACE

    x0, y0, x1, y1 = person["box"]
    if person.get("hands") or max(x1 - x0, y1 - y0) < MIN_SEARCH_BOX_PX:
        return False
    if (x1 - x0) * (y1 - y0) < MIN_SEARCH_AREA_FRAC * width * height:
        return False
    kp = np.asarray(person.get("keypoints") or np.zeros((133, 3)), dtype=np.float64).reshape(-1, 3)
    return not bool((kp[FACE, 2] >= min_score).any())


def distinct_hands(found: list[dict]) -> list[dict]:
    """One hand per place: of hands whose keypoint boxes overlap at IoU > 0.5 (one hand seen from two
    regions), the higher-scored."""
    from humanverse.models.pose.hand_landmarks import overlaps

    kept: list[dict] = []
    for h in sorted(found, key=lambda h: -h["score"]):
        if not overlaps(h["keypoints"], [k["keypoints"] for k in kept]):
            kept.append(h)
    return kept


def merge_hands(current: list[dict], found: list[dict]) -> list[dict]:
    """Per side, the hand with the higher score: MediaPipe Hands' replaces the pose model's where it is surer.
    Hands are dicts with side, score and keypoints (21 x 3)."""
    best = {h["side"]: h for h in current}
    for h in sorted(found, key=lambda h: -h["score"]):
        if h["side"] not in best or h["score"] > best[h["side"]]["score"]:
            best[h["side"]] = h
    return [best[s] for s in ("left", "right") if s in best]
