# The dashboard alone (no LiteLLM proxy inside: run the proxy per LiteLLM's own docs and point LITELLM_BASE_URL at it).
#   docker build -t llm-dashboard .
#   docker run -p 8501:8501 -e LITELLM_ENABLED=true -e LITELLM_BASE_URL=http://litellm:4000 \
#              -e LITELLM_API_KEY=sk-... llm-dashboard
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY .streamlit/config.toml .streamlit/config.toml
COPY streamlit_app.py home.py ./
COPY api/ api/
COPY gateway/ gateway/
COPY pages/ pages/
COPY ui/ ui/

RUN useradd --create-home --uid 10001 app && mkdir -p /app/data && chown app /app/data
VOLUME /app/data
USER app

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"

CMD ["streamlit", "run", "streamlit_app.py", "--server.port=8501", "--server.address=0.0.0.0", \
     "--server.headless=true", "--browser.gatherUsageStats=false"]
