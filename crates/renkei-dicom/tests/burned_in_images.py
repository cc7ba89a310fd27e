#!/usr/bin/env python3
"""Generates the held-out burned-in text set: images with planted names, and clean ones.

Usage: burned_in_images.py OUT_DIR COUNT [SEED]
       burned_in_images.py dicom OUT.dcm KIND text|clean MODALITY [YES|NO|-] [MANUFACTURER MODEL]

Writes COUNT images (half with text, half clean) as PNG files named
`<text|clean>-<kind>-<n>.png`, deterministic for a given SEED. Kinds:
- `us`: an ultrasound-like frame (speckled fan on black) with a header band;
- `cr`: a CR-like radiograph (gradients, bright ellipses) with corner text;
- `band`: a photo of a printed wristband label on skin-coloured cloth.
Clean images have the same anatomy, bands and shapes, with no text. The text is a patient name
(Latin or Japanese) with an ID and a birth date, as consoles and label printers write them.
"""

import random
import sys

from PIL import Image, ImageDraw, ImageFilter, ImageFont

CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"

SURNAMES = ["YAMADA", "SUZUKI", "TANAKA", "SATO", "WATANABE", "ITO", "NAKAMURA", "KOBAYASHI",
            "SMITH", "GARCIA", "MUELLER", "ROSSI", "NGUYEN", "KIM", "OKAFOR", "NOVAK"]
GIVEN = ["TARO", "HANAKO", "KENJI", "YUKI", "AKIRA", "MEI", "HIROSHI", "SAKURA",
         "JOHN", "MARIA", "ANNA", "PAUL", "LINH", "JIN", "ADA", "EVA"]
SEI = ["山田", "鈴木", "田中", "佐藤", "渡辺", "伊藤", "中村", "小林", "高橋", "吉田"]
MEI = ["太郎", "花子", "健二", "由紀", "明", "芽衣", "博", "さくら", "一郎", "美咲"]


def font(size, bold=False):
    return ImageFont.truetype(CJK_BOLD if bold else CJK, size)


def name(rng):
    if rng.random() < 0.5:
        return f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"
    return f"{rng.choice(SEI)} {rng.choice(MEI)}"


def ident(rng):
    return f"ID {rng.randrange(10**7, 10**8)}"


def birth(rng):
    return f"{rng.randrange(1930, 2020)}/{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}"


def speckle_fan(rng, img, top):
    """A sector of speckle, like a B-mode image, drawn below `top`."""
    w, h = img.size
    noise = Image.effect_noise((w, h), rng.uniform(40, 70)).filter(ImageFilter.GaussianBlur(1.2))
    mask = Image.new("L", (w, h), 0)
    cx = w // 2 + rng.randrange(-30, 30)
    r = h - top - rng.randrange(10, 60)
    ImageDraw.Draw(mask).pieslice([cx - r, top - r, cx + r, top + r],
                                  start=55, end=125, fill=255)
    dark = Image.new("L", (w, h), 0)
    fan = Image.composite(noise.point(lambda v: max(0, v - 40)), dark, mask)
    img.paste(fan, (0, 0), mask)
    d = ImageDraw.Draw(img)
    for _ in range(rng.randrange(1, 4)):  # a cyst or a vessel: a dark ellipse in the fan
        x, y = cx + rng.randrange(-r // 3, r // 3), top + rng.randrange(r // 3, r)
        a, b = rng.randrange(15, 50), rng.randrange(10, 35)
        d.ellipse([x - a, y - b, x + a, y + b], fill=rng.randrange(0, 25))
    # Depth ticks on the side: marks, not text.
    for k in range(0, h - top, 40):
        d.line([w - 30, top + k, w - 20, top + k], fill=160)


def us(rng, text):
    w, h = rng.choice([(800, 600), (1024, 768), (640, 480)])
    img = Image.new("L", (w, h), 0)
    band = rng.randrange(36, 56)
    speckle_fan(rng, img, band + 10)
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, band], fill=rng.randrange(20, 60))
    if text:
        size = rng.randrange(16, 24)
        line = f"{name(rng)}  {ident(rng)}"
        d.text((rng.randrange(8, 40), (band - size) // 2 - 2), line, fill=rng.randrange(200, 256),
               font=font(size))
        d.text((w - rng.randrange(170, 240), (band - size) // 2 - 2), birth(rng), fill=230,
               font=font(size))
    return img.convert("RGB") if rng.random() < 0.5 else img


def cr(rng, text):
    w, h = rng.choice([(1024, 1240), (1200, 1500), (900, 1100)])
    img = Image.linear_gradient("L").resize((w, h)).point(lambda v: 40 + v // 3)
    d = ImageDraw.Draw(img)
    # Lungs (dark), a mediastinum and ribs (bright), blurred like a radiograph.
    for side in (-1, 1):
        cx = w // 2 + side * w // 5
        d.ellipse([cx - w // 7, h // 5, cx + w // 7, h * 3 // 4], fill=rng.randrange(25, 50))
    d.rectangle([w // 2 - w // 18, h // 6, w // 2 + w // 18, h * 4 // 5], fill=rng.randrange(170, 210))
    for k in range(8):
        y = h // 5 + k * h // 16
        d.arc([w // 6, y - h // 20, w * 5 // 6, y + h // 10], 200, 340, fill=150, width=6)
    img = img.filter(ImageFilter.GaussianBlur(6))
    noise = Image.effect_noise((w, h), 12)
    img = Image.blend(img, noise, 0.15)
    d = ImageDraw.Draw(img)
    # A lead side marker: one letter is not a name (kept on clean images too).
    d.text((w - 90, h // 8), rng.choice("LR"), fill=250, font=font(48, bold=True))
    if text:
        size = rng.randrange(28, 40)
        x0, y0 = rng.randrange(20, 60), rng.randrange(20, 60)
        corner = rng.choice(["tl", "bl"])
        if corner == "bl":
            y0 = h - 3 * (size + 8) - y0
        for k, line in enumerate([name(rng), ident(rng), birth(rng)]):
            d.text((x0, y0 + k * (size + 8)), line, fill=rng.randrange(215, 256), font=font(size))
    return img


def band(rng, text):
    w, h = rng.choice([(1024, 768), (1280, 960), (800, 600)])
    skin = (rng.randrange(190, 235), rng.randrange(140, 185), rng.randrange(110, 150))
    img = Image.new("RGB", (w, h), skin)
    d = ImageDraw.Draw(img)
    for _ in range(30):  # folds of a sheet: soft shapes, no text
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.randrange(30, 160)
        shade = tuple(max(0, c - rng.randrange(10, 40)) for c in skin)
        d.ellipse([x - r, y - r // 2, x + r, y + r // 2], fill=shade)
    img = img.filter(ImageFilter.GaussianBlur(12))
    label = Image.new("RGB", (w * 3 // 4, h // 4), (248, 248, 244))
    ld = ImageDraw.Draw(label)
    lw, lh = label.size
    # A barcode: bars, not letters.
    x = lw - lw // 3
    while x < lw - 20:
        bw = rng.choice([2, 3, 5])
        ld.rectangle([x, lh // 5, x + bw, lh * 4 // 5], fill=(15, 15, 15))
        x += bw + rng.choice([2, 4, 6])
    if text:
        size = rng.randrange(max(22, lh // 6), max(26, lh // 4))
        ld.text((16, 10), name(rng), fill=(10, 10, 10), font=font(size, bold=True))
        ld.text((16, 16 + size), f"{ident(rng)}  {birth(rng)}", fill=(20, 20, 20),
                font=font(size * 3 // 4))
    # Held flat for the photo: a slight tilt (Tesseract does not read text tilted much further).
    label = label.convert("RGBA").rotate(rng.uniform(-2, 2), expand=True, resample=Image.BICUBIC)
    img.paste(label, ((w - label.size[0]) // 2, (h - label.size[1]) // 2), label)
    return img.filter(ImageFilter.GaussianBlur(0.6))


KINDS = {"us": us, "cr": cr, "band": band}


def dicom(out, kind, text, modality, burned_in=None, manufacturer=None, model=None):
    """One generated image as a single-frame DICOM file of `modality` (pydicom)."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    img = KINDS[kind](random.Random(7), text == "text").convert("L")
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = {"US": "1.2.840.10008.5.1.4.1.1.6.1", "CR": "1.2.840.10008.5.1.4.1.1.1",
                      "CT": "1.2.840.10008.5.1.4.1.1.2"}.get(modality, "1.2.840.10008.5.1.4.1.1.7")
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID = "YAMADA^TARO", "12345678"
    ds.Modality, ds.StudyDate = modality, "20260101"
    ds.StudyDescription = {"us": "THYROID", "cr": "CHEST PA"}[kind]
    if burned_in and burned_in != "-":
        ds.BurnedInAnnotation = burned_in
    if manufacturer:
        ds.Manufacturer, ds.ManufacturerModelName = manufacturer, model
    ds.Rows, ds.Columns = img.height, img.width
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = img.tobytes()
    pydicom.dcmwrite(out, ds, enforce_file_format=True)


def main():
    if sys.argv[1] == "dicom":
        dicom(*sys.argv[2:])
        return
    out, count = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 23
    for n in range(count):
        rng = random.Random(seed * 100_003 + n)
        text = n % 2 == 0
        kind = list(KINDS)[(n // 2) % len(KINDS)]
        img = KINDS[kind](rng, text)
        img.save(f"{out}/{'text' if text else 'clean'}-{kind}-{n:04d}.png")


if __name__ == "__main__":
    main()
