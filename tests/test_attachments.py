"""Attachments made ready to send (gateway.attachments.prepare): every kind, and every bad file gets a message."""

import base64
import io
import zipfile

import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from gateway.attachments import (
    Attachment,
    Limits,
    check_message,
    content_tokens,
    prepare,
    prepare_message,
    table_preview,
    user_content,
)
from gateway.config import load_settings
from gateway.conversation import Conversation, messages_for
from gateway.params import ChatParams


def png(width: int, height: int, mode: str = "RGB", colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), colour if mode == "RGB" else (*colour, 128)).save(out, "PNG")
    return out.getvalue()


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def pdf(*pages: str) -> bytes:
    """A real PDF with one line of text per page (Helvetica), written with pypdf."""
    writer = PdfWriter()
    for text in pages:
        page = writer.add_blank_page(612, 792)
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): writer._add_object(font)})})
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def xlsx(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_excel(out, index=False, engine="openpyxl")
    return out.getvalue()


def decoded(part: dict) -> Image.Image:
    url = part["image_url"]["url"]
    assert url.startswith("data:image/")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


# --- images ----------------------------------------------------------------------------------------------------------

def test_a_large_photo_is_downscaled_to_2048_and_sent_as_a_jpeg_data_url():
    photo = encoded(Image.new("RGB", (4096, 1024), (10, 120, 200)), "JPEG")
    attachment = prepare("photo.jpg", photo)
    assert attachment.ok and attachment.kind == "image" and attachment.mime == "image/jpeg"
    assert (attachment.width, attachment.height) == (2048, 512)
    assert (attachment.original_width, attachment.original_height) == (4096, 1024)
    image = decoded(attachment.content_part())
    assert image.format == "JPEG" and image.size == (2048, 512)
    assert attachment.facts == "photo.jpg · 2,048×512 px (from 4,096×1,024)"
    assert attachment.tokens == 85 + 170 * 4  # OpenAI's formula: 2048×512 is 4×1 tiles of 512 px


def test_a_small_png_with_transparency_stays_a_png_of_the_same_size():
    attachment = prepare("chart.png", png(300, 200, "RGBA"))
    assert attachment.mime == "image/png" and (attachment.width, attachment.height) == (300, 200)
    assert decoded(attachment.content_part()).mode == "RGBA"


@pytest.mark.parametrize("fmt,name", [("WEBP", "shot.webp"), ("GIF", "anim.gif")])
def test_webp_and_gif_first_frame(fmt, name):
    frames = [Image.new("RGB", (64, 48), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    data = encoded(frames[0], fmt, save_all=True, append_images=frames[1:])
    attachment = prepare(name, data)
    assert attachment.ok and (attachment.width, attachment.height) == (64, 48)
    first = decoded(attachment.content_part()).convert("RGB").getpixel((10, 10))
    assert first[0] > 200 and first[1] < 60  # red: the first frame


def test_an_exif_rotated_photo_is_turned_upright():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    attachment = prepare("phone.jpg", encoded(Image.new("RGB", (400, 300)), "JPEG", exif=exif))
    assert (attachment.width, attachment.height) == (300, 400)


# --- tables ----------------------------------------------------------------------------------------------------------

def test_a_csv_becomes_a_compact_table_with_its_shape():
    data = pd.DataFrame({"city": ["Paris", "Lyon"], "sales": [10, 20]}).to_csv(index=False).encode()
    attachment = prepare("sales.csv", data)
    assert attachment.kind == "table" and (attachment.rows, attachment.cols, attachment.rows_sent) == (2, 2, 2)
    assert attachment.text == "city,sales\nParis,10\nLyon,20\n" and attachment.note == ""
    part = attachment.content_part()
    assert part["type"] == "text" and "`sales.csv`; 2 rows × 2 columns" in part["text"] and "Lyon,20" in part["text"]
    assert table_preview(attachment).shape == (2, 2)


def test_a_big_csv_is_cut_to_fit_with_a_note_of_how_many_rows():
    frame = pd.DataFrame({"id": range(50_000), "value": [i * 0.5 for i in range(50_000)], "label": ["x" * 12] * 50_000})
    attachment = prepare("big.csv", frame.to_csv(index=False).encode(), Limits(max_text_chars=10_000))
    assert attachment.rows == 50_000 and 0 < attachment.rows_sent < 50_000
    assert len(attachment.text) <= 10_000
    assert attachment.note == f"first {attachment.rows_sent:,} of 50,000 rows"
    assert f"first {attachment.rows_sent:,} of 50,000 rows" in attachment.message_text()
    assert attachment.text.splitlines()[-1].startswith(str(attachment.rows_sent - 1) + ",")


def test_tsv_and_xlsx():
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    tsv = prepare("t.tsv", frame.to_csv(sep="\t", index=False).encode())
    book = prepare("t.xlsx", xlsx(frame))
    assert tsv.text == book.text == "a,b\n1,x\n2,y\n3,z\n"
    assert (book.rows, book.cols) == (3, 2)


# --- documents and text ------------------------------------------------------------------------------------------------

def test_a_pdf_gives_its_text_and_page_count():
    attachment = prepare("report.pdf", pdf("Revenue grew 12 percent", "Costs fell"))
    assert attachment.kind == "document" and attachment.pages == 2
    assert "Revenue grew 12 percent" in attachment.text and "Costs fell" in attachment.text
    assert attachment.facts == "report.pdf · 2 pages"


@pytest.mark.parametrize("name,mime", [("notes.md", "text/markdown"), ("data.json", "application/json"),
                                       ("script.py", "text/plain"), ("readme.txt", "text/plain")])
def test_text_files_are_sent_as_they_are(name, mime):
    attachment = prepare(name, "héllo = 1\n".encode())
    assert attachment.kind == "text" and attachment.mime == mime and attachment.text == "héllo = 1\n"


def test_a_long_text_is_cut_with_a_note():
    attachment = prepare("log.txt", b"a" * 5000, Limits(max_text_chars=1000))
    assert len(attachment.text) == 1000 and attachment.note == "first 1,000 characters"


# --- bad files: a message, never an exception ---------------------------------------------------------------------------

def zip_bomb() -> bytes:
    """A zip that claims to be a workbook and expands to 300 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):
                member.write(chunk)
    return out.getvalue()


@pytest.mark.parametrize("name,data,words", [
    ("report.pdf", b"<html>not a pdf</html>", "not a PDF"),
    ("broken.pdf", b"%PDF-1.7\n garbage garbage", "PDF"),
    ("photo.png", b"\x89PNG\r\n\x1a\n but then nothing", "not an image that can be read"),
    ("photo.jpg", pdf("hi"), "not an image that can be read"),
    ("cut.png", png(400, 400)[:200], "could not be decoded"),
    ("sheet.xlsx", b"this is text", "not an Excel workbook"),
    ("sheet.csv", b"\x00\x01\x02binary", "binary"),
    ("empty.csv", b"\n", "no rows or columns"),
    ("program.exe", b"MZ\x90\x00", "cannot be attached"),
    ("empty.txt", b"", "empty"),
    ("scan.pdf", pdf(""), "hold no text"),
])
def test_a_bad_file_is_refused_with_a_plain_message(name, data, words):
    attachment = prepare(name, data)
    assert not attachment.ok and words in attachment.refusal, attachment.refusal
    assert attachment.facts.startswith(f"{name}: ")
    assert attachment.tokens == 0 and user_content("question", [attachment]) == "question"  # nothing of it is sent


def test_an_xlsx_zip_bomb_is_refused_before_it_is_read():
    bomb = zip_bomb()
    assert len(bomb) < 1_000_000
    attachment = prepare("bomb.xlsx", bomb)
    assert not attachment.ok and "zip bomb" in attachment.refusal and "300 MB" in attachment.refusal


def test_an_image_bomb_is_refused():
    huge = encoded(Image.new("1", (20_000, 20_000)), "PNG")  # 400 megapixels: over Pillow's bomb limit
    attachment = prepare("huge.png", huge)
    assert not attachment.ok and "not an image that can be read" in attachment.refusal


# --- limits --------------------------------------------------------------------------------------------------------------

def test_limits_come_from_settings_with_clear_messages():
    settings = load_settings({"MAX_ATTACHMENT_MB": "0.01", "MAX_ATTACHMENTS": "2",
                              "MAX_CONVERSATION_ATTACHMENTS_MB": "0.02"}, secrets={}, dotenv_path=None)
    limits = Limits.from_settings(settings)
    assert (limits.max_file_bytes, limits.max_files) == (10485, 2)
    big = prepare("big.txt", b"x" * 20_000, limits)
    assert big.refusal == "it is 0.0191 MB; files may be at most 0.01 MB (MAX_ATTACHMENT_MB)."
    files = [("a.txt", b"a" * 5000), ("b.txt", b"b"), ("c.txt", b"c")]
    _, problems = prepare_message(files, limits)
    assert problems == ["3 files attached; a message may carry at most 2 (MAX_ATTACHMENTS)."]
    _, problems = prepare_message(files[:2], limits, conversation_bytes=18_000)
    assert "MAX_CONVERSATION_ATTACHMENTS_MB" in problems[0]
    assert check_message([prepare("a.txt", b"a")], limits) is None


def test_bad_limit_settings_fall_back_to_defaults_with_a_problem():
    settings = load_settings({"MAX_ATTACHMENTS": "none"}, secrets={}, dotenv_path=None)
    assert settings.max_attachments == 5 and any(p.variable == "MAX_ATTACHMENTS" for p in settings.problems)


# --- in the conversation ---------------------------------------------------------------------------------------------------

def test_a_round_sends_its_files_as_content_parts_and_round_trips():
    image, table = prepare("chart.png", png(50, 40)), prepare("s.csv", b"a,b\n1,2\n")
    chat = Conversation()
    chat.add_prompt("What is in these?", [image, table])
    [message] = messages_for(chat.history(), ChatParams())
    assert message["content"][0] == {"type": "text", "text": "What is in these?"}
    assert message["content"][1]["type"] == "image_url" and decoded(message["content"][1]).size == (50, 40)
    assert "a,b\n1,2" in message["content"][2]["text"]
    [text_only] = chat.history(images=False)
    assert "chart.png, was attached but not sent" in text_only["content"][1]["text"]
    back = Conversation.from_dict(chat.to_dict())
    assert back.rounds[0].attachments == [image, table]
    assert Conversation.from_dict(Conversation().to_dict()).rounds == []
    assert "attachments" not in Conversation(rounds=[]).to_dict()  # old exports stay as they were
    assert content_tokens(message["content"]) == image.tokens + table.tokens + 5
    assert chat.attachment_bytes == image.stored_bytes + table.stored_bytes


def test_a_prompt_without_files_is_sent_as_plain_text():
    chat = Conversation()
    chat.add_prompt("Hi")
    assert chat.history() == [{"role": "user", "content": "Hi"}]
    assert Attachment.from_dict(prepare("x.txt", b"y").to_dict()) == prepare("x.txt", b"y")


def test_exports_carry_the_files():
    from gateway import exports

    chat = Conversation()
    chat.add_prompt("Look", [prepare("chart.png", png(50, 40)), prepare("s.csv", b"a,b\n1,2\n")])
    assert "Attached: `chart.png · 50×40 px`, `s.csv · 1 row × 2 columns`" in exports.to_markdown(chat)
    back = exports.import_json(exports.to_json(chat))
    assert back.rounds[0].attachments == chat.rounds[0].attachments  # JSON: the bytes as base64


def test_compare_jobs_carry_the_same_files_and_a_model_without_vision_gets_the_text():
    from gateway.compare import jobs_for
    from gateway.models import ModelRecord

    seeing, blind = (ModelRecord(id=k, route="litellm", providers=("p",), supports_vision=v)
                     for k, v in (("seeing", True), ("blind", False)))
    files = [prepare("chart.png", png(50, 40)), prepare("s.csv", b"a,b\n1,2\n")]
    jobs = jobs_for(Conversation("compare"), [seeing, blind], "Compare", {"seeing": ChatParams(),
                                                                         "blind": ChatParams()}, 1, files)
    seen, told = (job.messages[-1]["content"] for job in jobs)
    assert [p["type"] for p in seen] == ["text", "image_url", "text"]
    assert [p["type"] for p in told] == ["text", "text", "text"] and "chart.png, was attached" in told[1]["text"]
