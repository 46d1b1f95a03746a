"""A camera for the door's browser tests: a .y4m video of a QR code, for Chromium's
`--use-file-for-fake-video-capture` (which plays it in a loop as the camera's stream).

    video = qr_video(text, tmp_path / "ticket.y4m")

Y4M is raw video: a text header, then for each frame "FRAME\\n" and its Y, U and V planes
(4:2:0, so U and V are a quarter of Y each). A QR code is black and white: U and V stay 128.
The code sits in a lit-paper frame with a little noise, so the reader works as on a real phone.
"""

from __future__ import annotations

import random
from pathlib import Path

import segno
from PIL import Image, ImageFilter

WIDTH, HEIGHT = 640, 480
FPS = 10
FRAMES = 10


def qr_image(text: str, size: int) -> Image.Image:
    qr = segno.make(text, error="m", micro=False, boost_error=False)
    modules = qr.symbol_size(scale=1, border=4)[0]
    scale = max(1, size // modules)
    image = Image.new("L", (modules, modules), 255)
    for y, row in enumerate(qr.matrix_iter(scale=1, border=4)):
        for x, dark in enumerate(row):
            if dark:
                image.putpixel((x, y), 0)
    return image.resize((modules * scale, modules * scale), Image.NEAREST)


def frame(text: str, seed: int) -> Image.Image:
    rng = random.Random(seed)
    background = Image.new("L", (WIDTH, HEIGHT), 70)  # a dim lobby
    code = qr_image(text, int(HEIGHT * 0.8))
    paper = Image.new("L", (code.width + 24, code.height + 24), 235)
    paper.paste(code.point(lambda v: 30 if v == 0 else 235), (12, 12))
    # The hand shakes a little from frame to frame.
    x = (WIDTH - paper.width) // 2 + rng.randint(-4, 4)
    y = (HEIGHT - paper.height) // 2 + rng.randint(-4, 4)
    background.paste(paper, (x, y))
    return background.filter(ImageFilter.GaussianBlur(0.6))


def qr_video(text: str, path: Path, *, frames: int = FRAMES) -> Path:
    """Write a .y4m video of `text` as a QR code held up to the camera, and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for n in range(frames):
            out.write(b"FRAME\n")
            out.write(frame(text, n).tobytes())
            out.write(chroma)
            out.write(chroma)
    return path


def blank_video(path: Path) -> Path:
    """A camera pointed at the floor: no code in sight."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(2):
            out.write(b"FRAME\n" + bytes([60]) * (WIDTH * HEIGHT) + chroma + chroma)
    return path
