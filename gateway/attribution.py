"""Who a request is for, as the LiteLLM proxy should see it.

Every chat and compare request the app sends carries the analyst's id as the OpenAI `user` field (LiteLLM's
`end_user`: its logs, callbacks and per-user spend) and, on the LiteLLM route, `metadata` with tags (`dashboard`,
the page) and the conversation's id. Pages build an `Attribution`; `gateway.chat.start_chat` and compare's `Job` take
it, so the gateway never reads Streamlit state to find out who is asking.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

APP_TAG = "dashboard"


@dataclass(frozen=True)
class Attribution:
    """The analyst, the page and the conversation a request belongs to."""

    user: str  # the analyst id (lower-cased e-mail, or "local")
    page: str  # "chat", "compare", …
    conversation_id: str | None = None
    run: int | None = None  # which repeat of a Run ×N

    @property
    def tags(self) -> list[str]:
        return [APP_TAG, f"page:{self.page}"]

    def metadata(self) -> dict[str, Any]:
        """LiteLLM's request `metadata`: its `tags` become the request's tags; the rest reaches callbacks and logs
        as requester metadata."""
        found: dict[str, Any] = {"tags": self.tags}
        if self.conversation_id:
            found["conversation_id"] = self.conversation_id
        if self.run is not None:
            found["run"] = self.run
        return found

    def request_fields(self, route: str) -> dict[str, Any]:
        """The fields to add to a chat request on `route`: through LiteLLM, `user` and `metadata`; straight to
        OpenAI, only a hash of the analyst's id as `user` (as OpenAI advises: no e-mail leaves for a provider);
        to Anthropic's own endpoint, nothing."""
        if route == "litellm":
            return {"user": self.user, "metadata": self.metadata()}
        if route == "openai":
            return {"user": hashlib.sha256(self.user.encode()).hexdigest()[:32]}
        return {}
