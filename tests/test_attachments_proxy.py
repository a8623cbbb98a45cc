"""Attachments through the real proxy: the chat page (AppTest) sends files, the test upstream receives them."""

import base64
import io

import httpx
import pandas as pd
from PIL import Image

from gateway import tokens
from gateway.attachments import Limits, prepare
from tests.support import upstream
from tests.support.text import shown
from tests.test_attachments import pdf, png
from tests.test_chat_page import open_chat, turns
from ui.markdown import plain


def send_files(at, prompt: str, *files: tuple[str, bytes]):
    for name, data in files:
        at.chat_input[0].upload(name, data)
    at.chat_input[0].set_value(prompt).run()
    assert not at.exception, at.exception
    return at


def proxy_count(proxy, model: str, text: str) -> int:
    """The proxy's own count of one user message, asked directly."""
    response = httpx.post(f"{proxy.base_url}/utils/token_counter", headers={"Authorization": f"Bearer {proxy.master_key}"},
                          json={"model": model, "messages": [{"role": "user", "content": text}]}, timeout=60)
    response.raise_for_status()
    return response.json()["total_tokens"]


def last_user_parts() -> list[dict]:
    request = upstream.RECEIVED[-1]
    return [m for m in request["messages"] if m["role"] == "user"][-1]["content"]


def test_an_image_and_a_csv_reach_the_vision_model_as_content_parts(app_env):
    upstream.RECEIVED.clear()
    csv = pd.DataFrame({"city": ["Paris", "Lyon"], "sales": [10, 20]}).to_csv(index=False).encode()
    at = send_files(open_chat("demo-vision"), "Describe this", ("wide.png", png(3000, 1500)), ("sales.csv", csv))
    # The upstream got the prompt, the image as a base64 PNG downscaled to 2048 px, and the table as text.
    text, image, table = last_user_parts()
    assert text == {"type": "text", "text": "Describe this"}
    url = image["image_url"]["url"]
    assert image["type"] == "image_url" and url.startswith("data:image/png;base64,")
    received = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert received.format == "PNG" and received.size == (2048, 1024)
    assert table["type"] == "text" and "city,sales\nParis,10\nLyon,20" in table["text"]
    # The page shows the thumbnail and the table preview under the prompt, and the model's reply about the pixels.
    user = at.chat_message[0]
    [thumbnail] = user.get("image")[0].proto.imgs
    assert "wide.png · 2,048×1,024 px (from 3,000×1,500)" in thumbnail.caption
    assert thumbnail.url.startswith("data:image/webp;base64,")  # drawn inline: no link anyone else could fetch (#32)
    assert user.dataframe[0].value.shape == (2, 2)
    assert "sales.csv · 2 rows × 2 columns" in user.caption[0].value
    # The table's cost is the proxy's own count for this model: its text as a user message, less that message empty.
    assert f"· {proxy_count(app_env, 'demo-vision', table['text']) - proxy_count(app_env, 'demo-vision', ''):,} " \
           "tokens (counted by the proxy)" in user.caption[0].value
    assert "tokens (estimated)" not in user.caption[0].value
    assert "2048×1024" in turns(at)[1][1]


def test_a_files_cost_is_an_estimate_when_the_proxy_cannot_count_it(app_env, monkeypatch):
    at = open_chat("demo-vision")
    monkeypatch.setattr(tokens, "_proxy_count", lambda *args, **kwargs: None)  # the counter does not answer
    at = send_files(at, "Read this", ("notes.txt", b"Revenue grew 12 percent in the third quarter."))
    caption = at.chat_message[0].caption[0].value
    # "Attached file `notes.txt`:" and a blank line, then the 45 characters: 73 characters at ~4 a token.
    assert "notes.txt · 45 characters · ≈ 19 tokens (estimated)" in shown(caption), caption
    assert turns(at)[1][0] == "assistant"  # and it was sent


def test_a_pdfs_text_is_sent(app_env):
    upstream.RECEIVED.clear()
    at = send_files(open_chat("upstream-echo"), "Summarise", ("report.pdf", pdf("Revenue grew 12 percent")))
    assert "Revenue grew 12 percent" in last_user_parts()[1]["text"]
    assert "report.pdf · 1 page" in at.chat_message[0].caption[0].value


def test_the_proxys_refusal_of_an_image_is_shown_plainly(app_env):
    at = send_files(open_chat("upstream-no-vision"), "What is this?", ("chart.png", png(40, 30)))
    reply = at.chat_message[1]
    assert any("image_url is only supported by certain models" in shown(e.value) for e in reply.error), \
        [e.value for e in reply.error]


def test_a_model_without_vision_asks_first_and_can_send_the_text_only(app_env):
    upstream.RECEIVED.clear()
    at = send_files(open_chat("text-only"), "What is this?", ("chart.png", png(40, 30)))
    assert "text-only has no vision support: send the text only, or pick a vision model." in at.warning[0].value
    assert len(at.chat_message) == 0  # nothing sent yet
    at.button(key="chat_prompt_text_only").click().run()
    assert turns(at) == [("user", "What is this?"), ("assistant", "I read text only.")]


def test_a_bad_file_sends_nothing_and_keeps_the_prompt(app_env):
    at = send_files(open_chat("upstream-echo"), "Read this", ("report.pdf", b"<html>not a pdf</html>"))
    assert not at.chat_message
    errors = [shown(e.value) for e in at.error]
    assert "report.pdf: this is not a PDF (it does not start like one)." in errors
    assert any("your text is back in the box" in e for e in errors)
    assert at.chat_input[0].proto.value == "Read this"  # put back into the box (after the fragment's rerun)


def test_compare_sends_the_same_files_to_every_model_and_a_no_vision_panel_says_so(app_env):
    from tests.test_compare_page import open_compare

    upstream.RECEIVED.clear()
    at = open_compare("demo-vision,text-only")
    at.chat_input(key="compare_prompt").upload("chart.png", png(640, 480))
    at.chat_input(key="compare_prompt").set_value("What do you see?").run()
    assert not at.exception, at.exception
    image = [p for p in last_user_parts() if p["type"] == "image_url"]
    assert len(image) == 1  # demo-vision (through the upstream) got the image
    captions = [c.value for c in at.caption]
    assert any(plain("chart.png · 640×480 px") in c for c in captions)  # (file and model names shown as text)
    assert any(f"{plain('text-only')} has no vision support: it got the text only" in c for c in captions)
    replies = [m for m in at.chat_message if m.name == "assistant"]
    texts = ["\n".join(e.value for e in m.markdown) for m in replies]
    assert any("640×480" in t for t in texts) and any("I read text only." in t for t in texts)


def test_a_file_that_cannot_fit_the_window_is_refused_with_the_numbers(app_env):
    upstream.RECEIVED.clear()
    at = send_files(open_chat("demo-fast"), "Summarise", ("notes.txt", b"word " * 12_000))  # ~15,000 tokens > 8,192
    assert not at.chat_message and not upstream.RECEIVED
    [refusal] = [e.value for e in at.error if e.value.startswith("Not sent")]
    sent = prepare("notes.txt", b"word " * 12_000, Limits()).message_text()
    counted = proxy_count(app_env, "demo-fast", sent) - proxy_count(app_env, "demo-fast", "")  # the proxy's count
    assert f"(notes.txt: {counted:,} tokens)" in shown(refusal) and "and demo-fast takes 8,192" in refusal
    assert at.chat_input[0].proto.value == "Summarise"
