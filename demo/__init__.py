"""Offline demo models: an OpenAI-compatible server whose replies depend on the prompt, with no language model.

`make run` starts it beside LiteLLM (`python -m demo.upstream`), and litellm_config.yaml's `demo-*` models point at
it. One concept per module:

- arithmetic: a safe (ast-based) calculator and finding a calculation in a sentence;
- units: unit conversions found in a sentence;
- facts: the few small tables the models can draw from (fruits, planets, capitals…);
- prompt: what a request says (last user message, system prompt, images, history) and what it asks for;
- vision: what can be computed from an image's pixels (size, dominant colours, brightness);
- tokens: splitting text into tokens for streaming and counting usage;
- writers: each model's way of writing its reply;
- models: the demo models (speed, personality, failures) and the reply a request gets;
- upstream: the HTTP server, streaming at each model's pace.
"""
