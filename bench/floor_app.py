"""The least a Streamlit chat page can do per prompt: the floor `bench.load --floor` measures the app against.

A prompt box in a fragment (as /chat has); a prompt reruns the fragment, streams the reply from the proxy with the
openai SDK, and draws it once, with the time to its first text in a caption. No sidebar, no history, no saving, no
live updates, no numbers beyond that: whatever per-session cost this page shows under load is Streamlit's and the
SDK's, not the dashboard's. Started by bench/load.py only (`streamlit run bench/floor_app.py`).
"""

import os
import time

import openai
import streamlit as st


@st.cache_resource
def client() -> openai.OpenAI:
    return openai.OpenAI(base_url=os.environ["LITELLM_BASE_URL"].rstrip("/") + "/v1",
                         api_key=os.environ["LITELLM_API_KEY"], max_retries=0)


@st.fragment
def chat() -> None:
    prompt = st.chat_input("Message", key="chat_prompt")
    if not prompt:
        return
    model = st.query_params.get("model", "stream-1")
    started, first, pieces = time.perf_counter(), None, []
    stream = client().chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}],
                                              stream=True)
    for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                first = first or time.perf_counter() - started
                pieces.append(choice.delta.content)
    with st.chat_message("user"):
        st.text(prompt)
    with st.chat_message("assistant"):
        st.markdown("".join(pieces))
        st.caption(f"TTFT {first or 0:.3f} s")


chat()
