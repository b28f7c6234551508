"""The mask codec: label = R + 256 * G, single-channel modes, and errors that name the mask."""

import io

import numpy as np
import pytest
from PIL import Image

from imagenets_hf.masks import decode_mask, encode_mask, encode_mask_png

LABELS = np.array([[0, 1, 255], [256, 1000, 65535]], dtype=np.uint16)


def png_bytes(image, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **kwargs)
    return buffer.getvalue()


def test_rgb_round_trip_uses_r_plus_256_g():
    image = encode_mask(LABELS)
    rgb = np.asarray(image)
    assert image.mode == "RGB"
    # 1000 = 232 + 256 * 3; 65535 = 255 + 256 * 255; B is always 0
    assert rgb[1, 1].tolist() == [232, 3, 0] and rgb[1, 2].tolist() == [255, 255, 0]
    decoded = decode_mask(encode_mask_png(LABELS))
    assert decoded.dtype == np.uint16 and decoded.tolist() == LABELS.tolist()


def test_rgb_ignores_blue():
    rgb = np.zeros((1, 2, 3), dtype=np.uint8)
    rgb[0, 0] = [232, 3, 77]
    assert decode_mask(png_bytes(Image.fromarray(rgb, "RGB"))).tolist() == [[1000, 0]]


@pytest.mark.parametrize(
    "dtype, mode, values",
    [
        (np.uint8, "L", [[0, 7, 255]]),
        (np.uint16, "I;16", [[0, 1000, 65535]]),
    ],
)
def test_single_channel_pngs_hold_the_label(dtype, mode, values, tmp_path):
    image = Image.fromarray(np.array(values, dtype=dtype))
    assert image.mode == mode
    path = tmp_path / "single.png"
    image.save(path)
    assert decode_mask(path).tolist() == values
    assert decode_mask(image).tolist() == values


def test_mode_i_images_hold_the_label():
    image = Image.fromarray(np.array([[0, 1000, 65535]], dtype=np.int32))
    assert image.mode == "I"
    assert decode_mask(image).tolist() == [[0, 1000, 65535]]
    with pytest.raises(ValueError, match="outside 0..65535|0..65535"):
        decode_mask(Image.fromarray(np.array([[0, 70000]], dtype=np.int32)), name="big")


def test_palette_mode_uses_the_index_not_the_colour():
    image = Image.fromarray(np.array([[0, 3, 9]], dtype=np.uint8), mode="L").convert("P")
    image.putpalette([255, 0, 0] * 256)
    assert image.mode == "P"
    assert decode_mask(png_bytes(image)).tolist() == [[0, 3, 9]]


def test_arrays_and_dict_sources(tmp_path):
    assert decode_mask(LABELS.astype(np.int64)).tolist() == LABELS.tolist()
    rgb = np.asarray(encode_mask(LABELS))
    assert decode_mask(rgb).tolist() == LABELS.tolist()
    data = encode_mask_png(LABELS)
    assert decode_mask({"bytes": data, "path": "x.png"}).tolist() == LABELS.tolist()
    path = tmp_path / "m.png"
    path.write_bytes(data)
    assert decode_mask({"bytes": None, "path": str(path)}).tolist() == LABELS.tolist()
    assert decode_mask(bytearray(data)).tolist() == LABELS.tolist()
    assert decode_mask(memoryview(data)).tolist() == LABELS.tolist()


def test_errors_name_the_mask(tmp_path):
    rgba = Image.fromarray(np.zeros((2, 2, 4), dtype=np.uint8), "RGBA")
    with pytest.raises(ValueError, match=r"rgba.png: unsupported image mode 'RGBA'"):
        decode_mask(png_bytes(rgba), name="rgba.png")
    with pytest.raises(ValueError, match="RGBA masks are not supported"):
        decode_mask(np.zeros((2, 2, 4), dtype=np.uint8), name="a")
    with pytest.raises(ValueError, match=r"one.png: unsupported image mode '1'"):
        decode_mask(png_bytes(Image.new("1", (2, 2))), name="one.png")
    cmyk = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (2, 2)).save(cmyk)
    with pytest.raises(ValueError, match=r"cmyk.jpg: is a JPEG file, not a PNG"):
        decode_mask(cmyk)
    with pytest.raises(ValueError, match="unsupported image mode 'CMYK'"):
        decode_mask(Image.new("CMYK", (2, 2)), name="c")
    jpeg = tmp_path / "mask.jpg"
    Image.new("RGB", (4, 4)).save(jpeg)
    with pytest.raises(ValueError, match=r"mask.jpg: is a JPEG file, not a PNG"):
        decode_mask(jpeg)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(encode_mask_png(LABELS)[:40])
    with pytest.raises(ValueError, match=r"corrupt.png: not a readable PNG"):
        decode_mask(corrupt)
    with pytest.raises(ValueError, match=r"junk: not a readable PNG"):
        decode_mask(b"not a png at all", name="junk")
    with pytest.raises(FileNotFoundError, match="missing.png"):
        decode_mask(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="neither 'bytes' nor 'path'"):
        decode_mask({"bytes": None, "path": None})
    with pytest.raises(ValueError, match=r"labels -1..0 lie outside 0..65535"):
        decode_mask(np.array([[-1, 0]]))
    with pytest.raises(ValueError, match="array: label maps must hold integer labels, got dtype float64"):
        decode_mask(np.zeros((2, 2), dtype=float))
    with pytest.raises(TypeError, match="cannot decode a int"):
        decode_mask(5)


def test_encode_rejects_bad_label_maps():
    with pytest.raises(ValueError, match="2-D"):
        encode_mask(np.zeros((2, 2, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="0..65535"):
        encode_mask(np.array([[70000]]))
