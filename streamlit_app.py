"""The entry point: `streamlit run streamlit_app.py` serves the pages and the HTTP API on one port.

Streamlit finds `app` below (an `st.App`, on Starlette) and serves `home.py` as the first page, the files in
`pages/` as the others, and the routes of `api/` (`/api/models`, `/api/health`, `/api/usage`, `/api/compare`,
`/api/judge`, `/api/runs…`, `/api/openapi.json`) beside them, every request behind `MIDDLEWARE` (api/policy.py).
`MediaGuard` answers Streamlit's `/media/` links only for the analyst a download was built for, during that
download (api/media_guard.py). AppTest opens `home.py`.
"""

import streamlit as st
from starlette.middleware import Middleware

import ui.secrets  # noqa: F401  (the API's settings read st.secrets too)
from api import MIDDLEWARE, ROUTES
from api.media_guard import MediaGuard

app = st.App("home.py", routes=ROUTES, middleware=[*MIDDLEWARE, Middleware(MediaGuard)])
