"""The settings of one OpenAI-compatible endpoint, shared by judges and models under test.

Judges (`Settings.judges`) and models under test (the backends file) add their own fields on
top of `EndpointSettings`; `connect` (bsa_judge.app.bootstrap) is the one factory from these
settings to a `ChatEndpoint`, through `endpoint_config`. A key is never a setting: only the
NAME of the environment variable holding it (read by bsa_judge.env_secrets).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from bsa_judge.chat.model import ChatModel

if TYPE_CHECKING:
    # The endpoint layer imports the openai SDK and aiohttp (~1.5 s): settings, and so every
    # CLI command (`bsa-judge metrics` too), load without it.
    from bsa_judge.backends.endpoint import EndpointConfig


class EndpointSettings(BaseModel):
    """Where an endpoint is and how to call it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    base_url: str = Field(min_length=1)
    model: str = Field(min_length=1, description="The model id sent upstream.")
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable that holds the API key."
    )
    max_concurrency: int = Field(default=16, ge=1)
    request_timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    extra_headers: dict[str, str] = Field(default_factory=dict)

    def endpoint_config(self) -> EndpointConfig:
        """How the endpoint layer reaches this backend."""
        from bsa_judge.backends.endpoint import EndpointConfig

        return EndpointConfig(
            name=self.name,
            base_url=self.base_url,
            model=self.model,
            api_key_env=self.api_key_env,
            max_concurrency=self.max_concurrency,
            request_timeout_s=self.request_timeout_s,
            max_retries=self.max_retries,
            extra_headers=dict(self.extra_headers),
        )


#: Builds the chat model of an endpoint's settings (bsa_judge.app.bootstrap.connect_endpoint,
#: or a fake in tests).
Connect = Callable[[EndpointSettings], ChatModel]
