"""What can be computed from an image's pixels with Pillow: size, format, dominant colours (named), brightness,
contrast and transparency. No recognition of what the image shows: the demo says so."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, replace
from typing import cast

from PIL import Image, ImageStat, UnidentifiedImageError

from demo.facts import colour_names
from demo.tokens import image_tokens

MAX_PIXELS = 50_000_000  # larger images are measured, not inspected
SAMPLE = 128  # the longest side colours and brightness are computed on
COLOURS = 6  # colours the image is reduced to before naming them


@dataclass(frozen=True)
class Colour:
    name: str  # the nearest named colour: "red", "navy"…
    hex: str  # the colour the image actually has: "#E53935"
    share: float  # of the pixels, 0–1


@dataclass(frozen=True)
class Picture:
    """What an image's pixels say (or why they could not be read: `error`)."""

    width: int = 0
    height: int = 0
    format: str = ""  # "PNG", "JPEG"…
    frames: int = 1
    colours: tuple[Colour, ...] = ()  # most of the image first
    brightness: float = 0.0  # mean luminance, 0 (black) – 1 (white)
    contrast: float = 0.0  # standard deviation of luminance, 0–0.5
    transparent: float = 0.0  # share of pixels that are at least partly transparent
    error: str | None = None

    @property
    def size(self) -> str:
        return f"{self.width}×{self.height}"

    @property
    def orientation(self) -> str:
        if self.width == self.height:
            return "square"
        return "landscape" if self.width > self.height else "portrait"

    @property
    def brightness_word(self) -> str:
        for limit, word in ((0.2, "very dark"), (0.4, "dark"), (0.6, "medium"), (0.8, "bright")):
            if self.brightness < limit:
                return word
        return "very bright"

    @property
    def contrast_word(self) -> str:
        return "flat (a single tone)" if self.contrast < 0.02 else "low" if self.contrast < 0.12 else \
            "moderate" if self.contrast < 0.25 else "high"

    @property
    def tokens(self) -> int:
        """What the image costs in prompt tokens."""
        return image_tokens(self.width, self.height)


def inspect(data: bytes) -> Picture:
    """Measure an image from its encoded bytes (PNG, JPEG, WebP, GIF's first frame…). Never raises on bad input."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                measured = Picture(width, height, image.format or "", getattr(image, "n_frames", 1))
                if width * height > MAX_PIXELS:
                    return replace(measured, error=f"{width * height / 1e6:.0f} megapixels is too large to inspect")
                image.draft("RGB", (SAMPLE * 2, SAMPLE * 2))  # JPEG: decode at a reduced size
                image.seek(0)
                frame = image.convert("RGBA")
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return Picture(error="the data is not an image Pillow can read")
    except (OSError, ValueError, EOFError, SyntaxError) as problem:  # truncated or corrupt files
        return Picture(error=f"the image could not be decoded ({type(problem).__name__})")
    frame.thumbnail((SAMPLE, SAMPLE))
    alpha = frame.getchannel("A")
    transparent = 1 - alpha.histogram()[255] / (frame.width * frame.height)
    on_white = Image.alpha_composite(Image.new("RGBA", frame.size, (255, 255, 255, 255)), frame).convert("RGB")
    luminance = ImageStat.Stat(on_white.convert("L"))
    return replace(measured, colours=dominant_colours(on_white), brightness=luminance.mean[0] / 255,
                    contrast=luminance.stddev[0] / 255, transparent=transparent)


def dominant_colours(image: Image.Image, limit: int = 3) -> tuple[Colour, ...]:
    """The image's main colours, most pixels first: reduced to a few colours (median cut), then those of the same
    name merged."""
    reduced = image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT)
    palette: list[int] = reduced.getpalette() or []
    total = image.width * image.height
    named: dict[str, tuple[int, tuple[int, int, int]]] = {}  # name → (pixels, the largest member's RGB)
    counts = cast(list[tuple[int, int]], reduced.getcolors(COLOURS) or [])  # a palette image: (pixels, index)
    for pixels, index in sorted(counts, reverse=True):
        red, green, blue = palette[index * 3:index * 3 + 3]
        rgb = (red, green, blue)
        name = nearest_name(rgb)
        count, first = named.get(name, (0, rgb))
        named[name] = (count + pixels, first)
    ranked = sorted(named.items(), key=lambda item: -item[1][0])[:limit]
    return tuple(Colour(name, "#{:02X}{:02X}{:02X}".format(*rgb), pixels / total) for name, (pixels, rgb) in ranked)


def nearest_name(rgb: tuple[int, ...]) -> str:
    """The named colour closest to rgb (the "redmean" weighted distance, close to how people see differences)."""
    red, green, blue = rgb[:3]

    def distance(other: tuple[int, int, int]) -> float:
        mean = (red + other[0]) / 2
        dr, dg, db = red - other[0], green - other[1], blue - other[2]
        return (2 + mean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - mean) / 256) * db * db

    return min(colour_names(), key=lambda named: distance(named[1]))[0]
