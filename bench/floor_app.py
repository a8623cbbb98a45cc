"""The least a Streamlit chat page can do per prompt: the floor `bench.load --floor` and `bench.gate` measure the app
against.

A prompt box in a fragment (as /chat has); a prompt reruns the fragment, streams the reply from the proxy with the
openai SDK, and draws it once, with the time to its first text in a caption. No sidebar, no history, no saving, no
live updates, no numbers beyond that: whatever per-session cost this page shows under load is Streamlit's and the
SDK's, not the dashboard's. With `?models=a,b,c` it is the floor of /compare instead: the prompt goes to every model
at once (a thread each), and the replies are drawn side by side once all have ended. Started by the benches only
(`streamlit run bench/floor_app.py`).
"""

import os
import time
from concurrent.futures import ThreadPoolExecutor

import openai
import streamlit as st


@st.cache_resource
def client() -> openai.OpenAI:
    return openai.OpenAI(base_url=os.environ["LITELLM_BASE_URL"].rstrip("/") + "/v1",
                         api_key=os.environ["LITELLM_API_KEY"], max_retries=0)


def reply(model: str, prompt: str) -> tuple[str, float]:
    """The whole reply's text and the time to its first text."""
    started, first, pieces = time.perf_counter(), None, []
    stream = client().chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}],
                                              stream=True)
    for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                first = first or time.perf_counter() - started
                pieces.append(choice.delta.content)
    return "".join(pieces), first or 0.0


def draw(prompt: str, text: str, first: float) -> None:
    with st.chat_message("user"):
        st.text(prompt)
    with st.chat_message("assistant"):
        st.markdown(text)
        st.caption(f"TTFT {first:.3f} s")


@st.fragment
def chat() -> None:
    prompt = st.chat_input("Message", key="chat_prompt")
    if not prompt:
        return
    if compared := [m for m in st.query_params.get("models", "").split(",") if m]:
        with ThreadPoolExecutor(len(compared)) as pool:
            replies = list(pool.map(lambda model: reply(model, prompt), compared))
        for column, (text, first) in zip(st.columns(len(compared)), replies):
            with column:
                draw(prompt, text, first)
        return
    draw(prompt, *reply(st.query_params.get("model", "stream-1"), prompt))


chat()
