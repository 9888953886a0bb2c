"""The OCR stage's repairs of the recogniser's usual slips, on constructed boxes (no model): each class
the random-layout scans showed (`synth/random_layout.py`, issue 10), and the page skew measured from
the rows of a turned page."""

import math
import random

import numpy as np

from vlm_service.ocr import repair_line, skew_angle
from vlm_service.words import Token


def texts(*cells: tuple[str, float, float]) -> list[str]:
    return [t.text for t in repair_line([Token(text, x0, x1, 0, 20) for text, x0, x1 in cells])]


def test_euro_sign_misread_beside_a_figure_is_a_euro_sign():
    assert texts(("519.16", 1208, 1300), ("∈-", 1315, 1346)) == ["519.16", "€-"]
    assert texts(("519.67", 1213, 1304), ("E-", 1320, 1350)) == ["519.67", "€-"]
    assert texts(("2,27∈", 745, 814)) == ["2,27€"]
    assert texts(("6.17EDR01/11/2023", 676, 860), ("10,782.22", 869, 951), ("ECR", 960, 988)) == \
        ["6.17€DR01/11/2023", "10,782.22", "€CR"]
    assert texts(("10,104.99ECRPinbetaling", 869, 1094)) == ["10,104.99€CRPinbetaling"]
    assert texts(("2E", 100, 120), ("ESSO", 130, 170), ("1E5", 180, 200)) == ["2E", "ESSO", "1E5"]
    # a lone E after a word, or far from the figure, is a letter
    assert texts(("Vitamin", 100, 200), ("E", 210, 222)) == ["Vitamin", "E"]
    assert texts(("12.00", 100, 160), ("E", 300, 312)) == ["12.00", "E"]


def test_letters_among_the_digits_of_a_figure_are_digits():
    assert texts(("sep", 547, 593), ("O4", 608, 638)) == ["sep", "04"]
    assert texts(("1,O23.45", 100, 200), ("(l2.5O)", 300, 380)) == ["1,023.45", "(12.50)"]
    assert texts(("Ol", 100, 130), ("OIL", 140, 180), ("Bill", 200, 250)) == ["Ol", "OIL", "Bill"]  # no digit: words


def test_figure_cut_between_two_touching_boxes_is_joined_again():
    assert texts(("09/2", 417, 468), ("2PaiementCB", 468, 796)) == ["09/22", "PaiementCB"]
    assert texts(("09/2", 419, 467), ("9Paiement", 467, 579)) == ["09/29", "Paiement"]
    # a real space between them: the digits belong to the word
    assert texts(("09/22", 417, 482), ("3Pinbetaling", 500, 640)) == ["09/22", "3Pinbetaling"]


def test_character_read_twice_where_boxes_overlap_is_read_once():
    assert texts(("2022/03/012", 108, 287), ("2022/03/01", 267, 419)) == ["2022/03/01", "2022/03/01"]
    assert texts(("221.70", 1201, 1314), ("-2", 1333, 1371), ("21,083.25", 1352, 1493)) == \
        ["221.70", "-", "21,083.25"]
    assert texts(("2018", 177, 224), ("3Pinbetaling", 206, 358)) == ["2018", "Pinbetaling"]
    # boxes that overlap without a repeated character are left alone
    assert texts(("Order", 100, 160), ("37559079", 150, 260)) == ["Order", "37559079"]


def turned_page(angle_deg: float, rng: random.Random) -> list[np.ndarray]:
    """Upright boxes (as the detector gives them) of a table of 30 rows and 4 columns, the page turned by
    `angle_deg` about its centre (positive: lines going down to the right), with a pixel of jitter."""
    quads = []
    a = math.radians(angle_deg)
    cx, cy = 620, 880
    for row in range(30):
        y = 300 + 38 * row
        for x0, x1 in ((80, 200), (230, 600), (900, 1000), (1080, 1160)):
            corners = []
            for x, yy in ((x0, y), (x1, y), (x1, y + 24), (x0, y + 24)):
                dx, dy = x - cx, yy - cy
                corners.append((cx + dx * math.cos(a) - dy * math.sin(a) + rng.uniform(-1, 1),
                                cy + dx * math.sin(a) + dy * math.cos(a) + rng.uniform(-1, 1)))
            xs, ys = [p[0] for p in corners], [p[1] for p in corners]
            quads.append(np.array([[min(xs), min(ys)], [max(xs), min(ys)], [max(xs), max(ys)], [min(xs), max(ys)]],
                                  dtype=np.float32))
    return quads


def test_skew_is_measured_from_the_rows_within_a_tenth_of_a_degree():
    rng = random.Random(7)
    errors = []
    for _ in range(12):
        angle = rng.uniform(-1.5, 1.5)
        errors.append(abs(math.degrees(skew_angle(turned_page(angle, rng))) - angle))
    assert max(errors) <= 0.1, errors
    assert skew_angle(turned_page(0.0, rng)[:4]) == 0.0  # too few boxes to tell: not turned


def test_minus_dropped_by_the_recogniser_is_read_back_from_the_pixels():
    """A sign printed apart from its amount (`-     50,00`) is a lone dash the recogniser drops: it is
    read back from the ink left of the amount, and only a short mid-height bar counts (not a letter,
    an underscore or nothing)."""
    from PIL import Image, ImageDraw

    from vlm_service.ocr import recover_signs

    img = Image.new("L", (400, 120), 255)
    draw = ImageDraw.Draw(img)
    draw.rectangle((200, 19, 210, 21), fill=0)  # a dash left of the first amount, at mid height
    draw.rectangle((200, 77, 212, 79), fill=0)  # an underscore-like bar at the foot of the third line
    draw.text((200, 45), "A", fill=0)  # a letter left of the second amount
    gray = np.asarray(img, dtype=np.float64)
    line1 = [Token("50,00", 250, 300, 14, 26)]
    line2 = [Token("12,40", 250, 300, 44, 56)]
    line3 = [Token("70,00", 250, 300, 66, 78)]
    line4 = [Token("-8,25", 250, 300, 94, 106)]
    assert [t.text for t in recover_signs(line1, gray)] == ["-", "50,00"]
    assert [t.text for t in recover_signs(line2, gray)] == ["12,40"]
    assert [t.text for t in recover_signs(line3, gray)] == ["70,00"]
    assert [t.text for t in recover_signs(line4, gray)] == ["-8,25"]  # already signed
