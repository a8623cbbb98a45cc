"""Drawing code shared by the pages: page setup, the sidebar, status banners and number formats.

Importing it hands Streamlit's secrets to the gateway's settings (ui/secrets.py)."""

import ui.secrets  # noqa: F401  (registers st.secrets with gateway.config)
