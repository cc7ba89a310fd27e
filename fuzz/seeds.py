#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into OUT/<target>/ (scripts/fuzz.sh runs it).

Seeds come from what the tests use: pydicom's DICOM test files, CSV files like the import
tests', MP4/QuickTime files made by ffmpeg like the video tests', and photos made with Pillow
(EXIF included), plus DICOM upper-layer PDUs and WebSocket frames built here. A source that is
missing (pydicom, ffmpeg, Pillow) is skipped with a note: libFuzzer then starts from less.
"""

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

OUT = sys.argv[1]
MAX_DICOM_BYTES = 40 * 1024


def put(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def note(message):
    print(f"seeds: {message}", file=sys.stderr)


# ---- DICOM files: pydicom's test files (the tests' own) ----
def dicom_files():
    try:
        from pydicom.data import get_testdata_file
    except ImportError:
        note("pydicom is missing: no DICOM file seeds")
        return []
    folder = os.path.dirname(get_testdata_file("CT_small.dcm"))
    files = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.endswith(".dcm") and os.path.getsize(path) <= MAX_DICOM_BYTES:
            with open(path, "rb") as f:
                files.append((name, f.read()))
    return files


def data_set_of(part10):
    """The data set of a Part 10 file (after its meta group), or None."""
    if part10[128:132] != b"DICM":
        return None
    (meta_length,) = struct.unpack_from("<I", part10, 140)
    return part10[144 + meta_length:]


# ---- DICOM upper layer ----
def item(kind, body):
    return struct.pack(">BBH", kind, 0, len(body)) + body


def uid(text):
    data = text.encode()
    return data + b"\0" if len(data) % 2 else data


def associate_rq(called=b"RENKEI", calling=b"STORESCU"):
    contexts = b""
    syntaxes = [
        ("1.2.840.10008.1.1", ["1.2.840.10008.1.2"]),
        ("1.2.840.10008.5.1.4.1.1.2", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]),
        ("1.2.840.10008.5.1.4.1.1.4", ["1.2.840.10008.1.2.4.50"]),
    ]
    for index, (abstract, transfers) in enumerate(syntaxes):
        body = struct.pack(">BBBB", 2 * index + 1, 0, 0, 0) + item(0x30, abstract.encode())
        for transfer in transfers:
            body += item(0x40, transfer.encode())
        contexts += item(0x20, body)
    user = (
        item(0x51, struct.pack(">I", 16384))
        + item(0x52, b"1.2.276.0.7230010.3.0.3.6.8")
        + item(0x55, b"OFFIS_DCMTK_368")
    )
    body = (
        struct.pack(">HH", 1, 0)
        + called.ljust(16)
        + calling.ljust(16)
        + bytes(32)
        + item(0x10, b"1.2.840.10008.3.1.1.1")
        + contexts
        + item(0x50, user)
    )
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def element(element_number, value):
    return struct.pack("<HHI", 0, element_number, len(value)) + value


def command(fields):
    body = b"".join(element(number, value) for number, value in fields)
    return element(0x0000, struct.pack("<I", len(body))) + body


def us(value):
    return struct.pack("<H", value)


def pdata(context, control, data):
    pdv = struct.pack(">I", len(data) + 2) + bytes([context, control]) + data
    return struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv


RELEASE_RQ = struct.pack(">BBI", 0x05, 0, 4) + bytes(4)
ABORT_RQ = struct.pack(">BBI", 0x07, 0, 4) + bytes([0, 0, 2, 0])


def pdu_seeds(files):
    echo = command([
        (0x0002, uid("1.2.840.10008.1.1")),
        (0x0100, us(0x0030)),
        (0x0110, us(1)),
        (0x0800, us(0x0101)),
    ])
    put("dicom_pdu", "associate-rq", associate_rq())
    put("dicom_pdu", "echo", associate_rq() + pdata(1, 0x03, echo) + RELEASE_RQ)
    put("dicom_pdu", "abort", ABORT_RQ)
    put("dicom_pdu", "wrong-called-ae", associate_rq(called=b"OTHER"))
    for name, part10 in files:
        if name not in ("CT_small.dcm", "MR_small.dcm", "SC_rgb_small_odd.dcm"):
            continue
        data_set = data_set_of(part10)
        if data_set is None:
            continue
        store = command([
            (0x0002, uid("1.2.840.10008.5.1.4.1.1.2")),
            (0x0100, us(0x0001)),
            (0x0110, us(2)),
            (0x0700, us(0)),
            (0x0800, us(0x0000)),
            (0x1000, uid("1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322")),
        ])
        stream = associate_rq() + pdata(3, 0x03, store)
        # The data set in fragments of at most 8 KiB, the last one marked.
        fragments = [data_set[i:i + 8192] for i in range(0, len(data_set), 8192)]
        for index, fragment in enumerate(fragments):
            stream += pdata(3, 0x02 if index == len(fragments) - 1 else 0x00, fragment)
        put("dicom_pdu", f"store-{name}", stream + RELEASE_RQ)


# ---- STOW-RS bodies ----
def stow_seeds(files):
    small = [data for name, data in files if len(data) <= 8 * 1024][:4]
    if not small:
        small = [b"DICM-less bytes"]
    boundary = "renkei-boundary"
    parts = b""
    for data in small[:2]:
        parts += (
            f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + data + b"\r\n"
        )
    body = b"preamble\r\n" + parts + f"--{boundary}--\r\n".encode()
    content_type = f'multipart/related; type="application/dicom"; boundary={boundary}'
    put("stow_multipart", "two-parts", bytes([7]) + content_type.encode() + b"\n" + body)
    quoted = 'multipart/related; boundary="a b"; type=application/dicom'
    tiny = b'--a b\r\n\r\nX\r\n--a b\r\nContent-Type: application/dicom; x=1\r\n\r\nYY--a b\r\n--a b--'
    put("stow_multipart", "quoted", bytes([1]) + quoted.encode() + b"\n" + tiny)


# ---- WebSocket frames (docs/PROTOCOL.md) ----
CONVERSATION = "0190c3a1-7b2c-7d4e-8f00-123456789abc"
CALL = "0190c3a1-7b2c-7d4e-8f00-cba987654321"
FRAMES = [
    {"type": "hello", "token": "abc", "positions": {CONVERSATION: 12}},
    {"type": "send", "conversation_id": CONVERSATION, "client_msg_id": "m-1",
     "body": "CT撮りました @佐藤", "reply_to": 3, "priority": "urgent",
     "mentions": [CALL], "attachments": [{"kind": "study", "id": CALL}]},
    {"type": "read", "conversation_id": CONVERSATION, "seq": 7},
    {"type": "typing", "conversation_id": CONVERSATION},
    {"type": "ping", "active": True},
    {"type": "call_start", "conversation_id": CONVERSATION,
     "media": {"audio": True, "video": False}},
    {"type": "call_signal", "call_id": CALL, "to_conn": "sfu", "data": {"sdp": "v=0"}},
    {"type": "call_layers", "call_id": CALL, "wants": [{"conn": "3", "layer": "low"}]},
    {"type": "view_share", "call_id": CALL, "target": {"kind": "study", "id": CALL},
     "state": {"slice": 3.5, "zoom": 2, "pointer": {"x": 0.5, "y": 0.25}}},
    {"type": "view_stop", "call_id": CALL},
    {"type": "call_media", "call_id": CALL, "audio": False, "video": True},
]


def ws_seeds():
    for index, frame in enumerate(FRAMES):
        put("ws_frame", f"frame-{index}", json.dumps(frame, ensure_ascii=False))


# ---- user CSV files (like crates/renkei/tests/administration.rs) ----
HEADER = "login,staff_number,display_name,kana,profession,department,email,phone,roles,status\n"
CSVS = {
    "rows": HEADER
    + "sato,E-1,佐藤 花子,さとう はなこ,nurse,救急科,sato@oita-u.example,0975,,active\n"
    + "kato,E-2,加藤,かとう,surgeon,救急科,not-an-email,,,active\n"
    + "ito,E-3,伊藤,いとう,doctor,眼科,,call me,root,\n"
    + "abe,E-9,阿部,,clerk,,,,,sleeping\n"
    + "short,row\n",
    "admin": "login,display_name,profession,roles,status\nadmin,管理 太郎,doctor,org_admin;server_admin,suspended\n",
    "quoted": 'login,display_name,profession\n"sa""to","=1+2",nurse\n\n',
    "full": "login,staff_number,display_name,kana,romaji,profession,department,email,phone,roles,status,second_factor_required\r\n"
    + "new.user,E-7,新人 一郎,しんじん いちろう,Shinjin Ichiro,doctor,Radiology,a@b.example,090-1234-5678,org_admin,active,true\r\n",
}


def csv_seeds():
    for name, text in CSVS.items():
        put("csv_import", name, text)
    put("csv_import", "bom", "\ufeff" + CSVS["admin"])
    put("csv_import", "shift-jis", CSVS["rows"].encode("cp932", errors="replace"))


# ---- media ----
def ffmpeg_seeds(folder):
    if not shutil.which("ffmpeg"):
        note("ffmpeg is missing: no MP4 seeds")
        return []
    made = []
    runs = {
        "plain.mp4": ["-movflags", "+faststart"],
        "tail-moov.mp4": [],
        "fragmented.mp4": ["-movflags", "frag_keyframe+empty_moov"],
        "quicktime.mov": [],
    }
    for name, flags in runs.items():
        path = os.path.join(folder, name)
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
             "testsrc=size=32x32:rate=5:duration=0.4", "-pix_fmt", "yuv420p",
             "-c:v", "mpeg4", "-metadata", "title=SECRET", "-metadata",
             "location=+35.6+139.7/", "-metadata", "creation_time=2019-07-08T09:10:11Z",
             *flags, path],
            check=True,
        )
        with open(path, "rb") as f:
            made.append((name, f.read()))
    return made


def pillow_seeds():
    try:
        from PIL import Image
    except ImportError:
        note("Pillow is missing: no photo seeds")
        return []
    image = Image.new("RGB", (24, 16), (128, 128, 128))
    for x in range(8):
        for y in range(8):
            image.putpixel((x, y), (220, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise
    exif[0x010F] = "SecretCam"
    made = []
    for name, fmt, options in [
        ("photo.jpg", "JPEG", {"exif": exif.tobytes(), "quality": 80}),
        ("photo.png", "PNG", {"exif": exif.tobytes()}),
        ("photo.webp", "WEBP", {"lossless": True}),
        ("photo.gif", "GIF", {}),
    ]:
        out = io.BytesIO()
        image.save(out, fmt, **options)
        made.append((name, out.getvalue()))
    return made


def media_seeds(files):
    with tempfile.TemporaryDirectory() as folder:
        videos = ffmpeg_seeds(folder)
    photos = pillow_seeds()
    for name, data in videos:
        put("mp4_rewrite", name, data)
    for name, data in photos:
        put("photo", name, data)
    samples = [
        ("image/jpeg", "IMG_0001.JPG", photos[0][1] if photos else b"\xff\xd8\xff\xe0"),
        ("video/mp4", "clip.mp4", videos[0][1][:1024] if videos else b"\0\0\0\x18ftypisom"),
        ("application/pdf", "紹介状.pdf", b"%PDF-1.7\n"),
        ("image/svg+xml", "x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        ("text/html", "../../index.html", b"<!DOCTYPE html><script>1</script>"),
        ("application/dicom", "CT.dcm", files[0][1][:1024] if files else b"DICM"),
        ("text/plain", "memo.txt", "申し送り".encode()),
        ("image/heic", "IMG.HEIC", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
    ]
    for index, (mime, name, data) in enumerate(samples):
        put("media_kind", f"sample-{index}", mime.encode() + b"\n" + name.encode() + b"\n" + data)


def main():
    files = dicom_files()
    for name, data in files:
        put("dicom_part10", name, data)
        # The first byte picks the options: digits kept, date mode, characteristics, descriptors.
        every = name in ("CT_small.dcm", "MR_small.dcm")
        for options in (0x04 | 0x10 | 0x20 | 0x40, 0x00, 0x0B)[: 3 if every else 1]:
            put("dicom_deid", f"{options:02x}-{name}", bytes([options]) + data)
    pdu_seeds(files)
    stow_seeds(files)
    ws_seeds()
    csv_seeds()
    media_seeds(files)


if __name__ == "__main__":
    main()
